//! Pages: one route per file.

pub mod home;
pub mod job;
pub mod not_found;
