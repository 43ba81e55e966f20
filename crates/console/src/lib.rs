//! The center's web pages as pure functions: plain data in, HTML out, in 简体中文 or English.
//!
//! This crate decides nothing: who may see a page, and which links a visitor is offered, are
//! decided by the center's policy, which hands the pages their data and their [`Frame`]. Every
//! string a model, a suite or a person wrote is interpolated through `maud`, which escapes it;
//! nothing here writes unescaped text except the fixed markup of this crate. The pages load one
//! style sheet and one script from `/static/` (see [`asset`]) and carry no inline script, so a
//! Content-Security-Policy of `script-src 'self'` holds; they read without the script (it only
//! moves progress bars live and fills the verification form from a chosen file).

mod assets;
mod compare;
mod frame;
mod manage;
mod pages;
mod samples;

pub use assets::{ASSETS, asset};
pub use compare::{CompareChoice, CompareView, compare};
pub use frame::{Frame, NavLink, Viewer, encode, t};
pub use manage::{
    AdminView, AuditFilter, AuditRow, AuditView, Choice, ModelRow, ModelsView, NewRunView, OrgRow,
    Preview, RunForm, Tested, TokenRow, TokensView, UserRow, admin, audit, models, new_run, tokens,
};
pub use pages::{
    Board, BoardRow, Cell, CheckLine, Download, LogView, ReviewSummary, Reviewed, RunRow, RunView,
    VerifyView, about, dashboard, error, home, log, login, model, password, run, verify,
};
pub use samples::{
    FlagLine, QueueRow, QueueView, Refused, ReviewLine, SampleDetail, SampleFilter, SampleRow,
    SamplesView, ScoreLine, queue, samples,
};
pub use touchstone_report::Lang;
