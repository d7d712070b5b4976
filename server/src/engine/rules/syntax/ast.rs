//! The AST a rule program parses to: statements, one per line, and their expressions, each
//! with its byte span.

use super::lex::Span;

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ExprKind {
    Num {
        value: f64,
        int: bool,
    },
    Name(String),
    Call {
        name: String,
        name_span: Span,
        args: Vec<Expr>,
    },
    Field {
        base: Box<Expr>,
        field: String,
        field_span: Span,
    },
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin {
        op: BinOp,
        op_span: Span,
        l: Box<Expr>,
        r: Box<Expr>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// A number written in a `param` line, with its sign.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Lit {
    pub value: f64,
    pub int: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Long,
    Short,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuleKind {
    Entry,
    Exit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StopKind {
    StopLoss,
    TakeProfit,
    Trailing,
}

impl StopKind {
    pub fn keyword(self) -> &'static str {
        match self {
            StopKind::StopLoss => "stop_loss_pct",
            StopKind::TakeProfit => "take_profit_pct",
            StopKind::Trailing => "trailing_stop_pct",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Stmt {
    Strategy {
        name: String,
    },
    Param {
        name: String,
        name_span: Span,
        kind: String,
        kind_span: Span,
        min: Lit,
        max: Lit,
        default: Lit,
    },
    Constraint {
        expr: Expr,
    },
    Rule {
        side: Side,
        kind: RuleKind,
        expr: Expr,
    },
    Stop {
        kind: StopKind,
        expr: Expr,
    },
    Reenter {
        value: bool,
    },
}

/// A statement and the span of its first word.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Line {
    pub stmt: Stmt,
    pub span: Span,
}
