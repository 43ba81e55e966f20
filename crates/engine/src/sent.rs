//! What one item sends to the model under test: below both the attacks that shape it and the
//! item preparation that chooses it, so neither imports the other's caller.

/// What one item sends to the model under test (before generation parameters are added).
pub(crate) enum Sent {
    Messages(Vec<touchstone_core::Message>),
    /// Multiple choice by log-likelihood: the plain-text prompt, one continuation per option.
    Choices(touchstone_models::LoglikelihoodRequest),
    Driver {
        name: String,
        goal: String,
    },
}
