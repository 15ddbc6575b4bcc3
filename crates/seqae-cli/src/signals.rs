//! Ctrl-C (SIGINT) and SIGTERM while training: the first one asks training to stop after the
//! current batch (the command then saves what it can and exits 130 or 143); a second one ends
//! the process at once.
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// The signal received (0: none), shared with the handlers.
fn received_flag() -> &'static Arc<AtomicUsize> {
    static RECEIVED: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    RECEIVED.get_or_init(|| Arc::new(AtomicUsize::new(0)))
}

/// Installs the handlers (once; later calls do nothing), when training starts: before it,
/// and in commands that do not train, a signal ends the process as usual. Failing to install
/// them is not fatal (the default action remains).
pub fn install() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    #[cfg(unix)]
    INSTALLED.call_once(|| {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let once = Arc::new(AtomicBool::new(false));
        for signal in [SIGINT, SIGTERM] {
            // A second signal after the first ends the process with the usual code.
            let _ = signal_hook::flag::register_conditional_shutdown(
                signal,
                128 + signal,
                once.clone(),
            );
            let _ = signal_hook::flag::register(signal, once.clone());
            let _ =
                signal_hook::flag::register_usize(signal, received_flag().clone(), signal as usize);
        }
    });
}

/// The signal that asked the work to stop, if one did.
pub fn received() -> Option<i32> {
    match received_flag().load(Ordering::SeqCst) {
        0 => None,
        s => Some(s as i32),
    }
}

/// The exit code for stopping on `signal`: 128 + its number (130 for SIGINT, 143 for
/// SIGTERM), as shells report a process ended by it.
pub fn exit_code(signal: i32) -> u8 {
    (128 + signal).clamp(0, 255) as u8
}

/// The signal's name for messages.
pub fn name(signal: i32) -> &'static str {
    match signal {
        2 => "SIGINT (Ctrl-C)",
        15 => "SIGTERM",
        _ => "a signal",
    }
}
