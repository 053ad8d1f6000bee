//! Pushes leave the building: one [`channel::Sender`] trait, one adapter per
//! channel (SMS gateway and Alibaba Cloud SMS with failover, SMTP email,
//! DingTalk and WeCom robots, the in-app inbox), the [`worker::Dispatcher`]
//! that claims and sends with retries and dead letters, and the
//! [`receipts`] endpoint providers report delivery to.

pub mod channel;
pub mod config;
pub mod deployment;
pub mod email;
pub mod http;
pub mod receipts;
pub mod robot;
pub mod secrets;
pub mod simulated;
pub mod sms;
pub mod worker;

pub use channel::{Outcome, Outgoing, Sender};
pub use config::DispatchConfig;
pub use worker::{Dispatcher, Policy, Routes};
