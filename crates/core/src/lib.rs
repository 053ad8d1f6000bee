//! GGZY Push core: everything the push standard says, with no IO and no Tauri.
//!
//! An intake line becomes an [`event::Envelope`]; [`engine::decide`] checks it
//! against the project's [`workflow`] state and turns it, through the rule
//! [`catalog`], into rendered [`push::PushDraft`]s. The store persists what
//! the engine decides; the CLI, the desktop app and the sync server all reach
//! this same code.

pub mod anchor;
pub mod audit;
pub mod calendar;
pub mod catalog;
pub mod complaints;
pub mod deadlines;
pub mod draw;
pub mod engine;
pub mod error;
pub mod event;
pub mod experts;
pub mod fold;
pub mod improvement;
pub mod materials;
pub mod model;
pub mod pack;
pub mod password;
pub mod push;
pub mod reach;
pub mod render;
pub mod role;
pub mod sync;
pub mod workflow;

pub use error::Refusal;
