//! Platform logging: routes the library's `tracing` diagnostics to where a mobile developer
//! looks — logcat on Android (tag `dash-qrsync`, through `tracing-android`), standard error
//! elsewhere (the Xcode console on iOS; the Swift package also mirrors events to `os_log`).
//!
//! Nothing is installed unless the host asks: a library must not take over a process-wide
//! subscriber the app may want for itself.

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

/// The most verbose level that is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Errors and warnings (peer faults, rejected data, store failures).
    Warn,
    /// Also sync milestones.
    Info,
    /// Also per-request detail.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    fn filter(self) -> LevelFilter {
        match self {
            LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Trace => LevelFilter::TRACE,
        }
    }
}

/// Installs a process-wide subscriber that writes the library's logs to the platform log at
/// `level` and above. Returns `false` when a subscriber was already installed (by the host or
/// an earlier call): the library then logs through that one, and nothing changes.
pub fn enable_platform_logging(level: LogLevel) -> bool {
    let filter = level.filter();
    #[cfg(target_os = "android")]
    {
        let Ok(layer) = tracing_android::layer("dash-qrsync") else {
            return false;
        };
        tracing_subscriber::registry()
            .with(layer.with_filter(filter))
            .try_init()
            .is_ok()
    }
    #[cfg(not(target_os = "android"))]
    {
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false);
        tracing_subscriber::registry()
            .with(layer.with_filter(filter))
            .try_init()
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_once_then_defers_to_the_installed_subscriber() {
        assert!(enable_platform_logging(LogLevel::Warn));
        assert!(!enable_platform_logging(LogLevel::Trace));
        tracing::warn!("logging works");
    }
}
