//! Many inputs on several threads, results in input order: `scan` and
//! `redact` with `--threads`.
//!
//! Workers take the next input, do the work and hand back the result; the
//! calling thread writes results in input order as they complete. A worker
//! may run at most a window of inputs ahead of the writer, so memory holds
//! a bounded number of results however slow the first input is. When the
//! writer fails (a closed pipe), no input is started after it.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};

/// Which input is next and how far the writer has come.
struct Progress {
    next: usize,
    written: usize,
    stop: bool,
}

/// Calls `work` on every item on up to `threads` threads and `emit` on the
/// results in item order; stops at the first error of `emit`.
pub(crate) fn ordered<T, R, E>(
    items: &[T],
    threads: usize,
    work: impl Fn(&T) -> R + Sync,
    mut emit: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Sync,
    R: Send,
{
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        for item in items {
            emit(work(item))?;
        }
        return Ok(());
    }
    let window = 2 * threads;
    let progress = Mutex::new(Progress {
        next: 0,
        written: 0,
        stop: false,
    });
    let moved = Condvar::new();
    let (tx, rx) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (progress, moved, work) = (&progress, &moved, &work);
            scope.spawn(move || loop {
                let i = {
                    let mut p = progress.lock().expect("progress lock");
                    while !p.stop && p.next < items.len() && p.next >= p.written + window {
                        p = moved.wait(p).expect("progress lock");
                    }
                    if p.stop || p.next >= items.len() {
                        return;
                    }
                    p.next += 1;
                    p.next - 1
                };
                if tx.send((i, work(&items[i]))).is_err() {
                    return;
                }
            });
        }
        drop(tx);
        let mut done = BTreeMap::new();
        let mut written = 0;
        let result = (|| {
            for (i, r) in rx.iter() {
                done.insert(i, r);
                while let Some(r) = done.remove(&written) {
                    emit(r)?;
                    written += 1;
                    progress.lock().expect("progress lock").written = written;
                    moved.notify_all();
                }
            }
            Ok(())
        })();
        if result.is_err() {
            progress.lock().expect("progress lock").stop = true;
            moved.notify_all();
        }
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_input_order_whatever_finishes_first() {
        let items: Vec<u64> = (0..50).collect();
        for threads in [1, 2, 3, 8] {
            let mut seen = Vec::new();
            ordered(
                &items,
                threads,
                |&i| {
                    // Early items are the slow ones.
                    std::thread::sleep(std::time::Duration::from_micros(50 * (50 - i)));
                    i * 10
                },
                |r| {
                    seen.push(r);
                    Ok::<(), ()>(())
                },
            )
            .unwrap();
            assert_eq!(seen, items.iter().map(|i| i * 10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn an_error_of_the_writer_stops_the_work() {
        let items: Vec<usize> = (0..1000).collect();
        let started = std::sync::atomic::AtomicUsize::new(0);
        let result = ordered(
            &items,
            4,
            |&i| {
                started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                i
            },
            |r| if r == 3 { Err("closed") } else { Ok(()) },
        );
        assert_eq!(result, Err("closed"));
        // The window (8) bounds how far the workers ran ahead.
        assert!(started.into_inner() <= 3 + 1 + 8 + 4);
    }
}
