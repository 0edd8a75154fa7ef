//! Simulators of the remote APIs zqsync talks to. Built out by the sandbox issue.
