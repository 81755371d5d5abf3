//! regwatch: watches the 5-day submission and registration rules for My Number health-card notices.
pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod gen;
pub mod ingest;
pub mod letters;
pub mod mail;
pub mod reports;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod web;
