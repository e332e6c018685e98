//! The allocator, and the settings a memory-bound command asks of it.

// A hunt allocates per hit on every scanning thread; glibc's malloc spent a
// tenth of a 1M-indicator hunt's CPU in its arena locks and consolidation.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs this command again with mimalloc told to give freed memory back at
/// once (`MIMALLOC_PURGE_DELAY=1`, against 1 s by default) and to commit
/// its arena as it fills (`MIMALLOC_ARENA_EAGER_COMMIT=0`). The detector
/// frees each rule's parse at load and each batch of events as it goes;
/// with the defaults its peak was 125-139 MB for SigmaHQ's Windows rules
/// over 1 GiB of EVTX, against 57 MB with these, at the same speed
/// (docs/BENCHMARKS.md). mimalloc reads its options when the process
/// starts (setting them later through its C API changed nothing,
/// measured), hence the new process. Options the user set are kept; where
/// the new process cannot start, this one goes on as it is.
pub fn restart_lean() {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        // `exec` returns only if the new program could not start.
        let _ = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env("MIMALLOC_PURGE_DELAY", "1")
            .env("MIMALLOC_ARENA_EAGER_COMMIT", "0")
            .exec();
    }
}
