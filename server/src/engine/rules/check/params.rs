//! The checks of one `param` line: a name that is not reserved, a kind (`int` or `float`),
//! whole bounds for an `int`, and a non-empty range that holds the default.

use super::*;

/// Checks the declared parameter of one `param` line (pushes errors, returns the declaration
/// to use from here on, sanitized so later checks do not cascade, and whether it had errors).
pub(super) fn param_decl(line: &Line, src: &str, errs: &mut Vec<Err>) -> Option<(ParamDecl, bool)> {
    let Stmt::Param {
        name,
        name_span,
        kind,
        kind_span,
        min,
        max,
        default,
    } = &line.stmt
    else {
        return None;
    };
    let text = |s: Span| &src[s.start..s.end];
    if reserved(name) {
        errs.push((
            name_span.start,
            format!(
                "'{name}' is a series, function or keyword name; choose another parameter name"
            ),
        ));
        return None;
    }
    let kind = match kind.as_str() {
        "int" => ParamKind::Int,
        "float" => ParamKind::Float,
        other => {
            errs.push((
                kind_span.start,
                format!("expected 'int' or 'float', found '{other}'"),
            ));
            return Some((
                ParamDecl {
                    name: name.clone(),
                    kind: ParamKind::Int,
                    min: min.value,
                    max: max.value,
                    default: default.value,
                },
                true,
            ));
        }
    };
    let before = errs.len();
    for lit in [min, max, default] {
        if kind == ParamKind::Int {
            if !lit.int || lit.value.fract() != 0.0 {
                errs.push((
                    lit.span.start,
                    format!(
                        "'{name}' is an int parameter, so '{}' must be a whole number",
                        text(lit.span)
                    ),
                ));
            } else if lit.value.abs() > MAX_WINDOW as f64 {
                errs.push((
                    lit.span.start,
                    format!("int parameters must lie between -{MAX_WINDOW} and {MAX_WINDOW}, found '{}'", text(lit.span)),
                ));
            }
        } else if lit.value.abs() > 1e15 {
            errs.push((
                lit.span.start,
                format!(
                    "parameter values must lie between -1e15 and 1e15, found '{}'",
                    text(lit.span)
                ),
            ));
        }
    }
    if errs.len() == before {
        if max.value < min.value {
            errs.push((
                max.span.start,
                format!(
                    "the range of '{name}' is empty: its maximum {} is below its minimum {}",
                    text(max.span),
                    text(min.span)
                ),
            ));
        } else if default.value < min.value || default.value > max.value {
            errs.push((
                default.span.start,
                format!(
                    "the default {} of '{name}' is outside its range {}..{}",
                    text(default.span),
                    text(min.span),
                    text(max.span)
                ),
            ));
        }
    }
    Some((
        ParamDecl {
            name: name.clone(),
            kind,
            min: min.value,
            max: max.value.max(min.value),
            default: default.value.clamp(min.value, max.value.max(min.value)),
        },
        errs.len() > before,
    ))
}
