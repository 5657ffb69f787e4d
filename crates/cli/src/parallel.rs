//! Ordered parallel output: items are produced on worker threads and
//! written by the caller's thread in their original order, with a bounded
//! number of buffers in flight.

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

/// A worker's lane: its filled buffers, and the way back for empty ones.
type Lane = (Receiver<Vec<u8>>, Sender<Vec<u8>>);

/// Buffers a worker may have filled ahead of the writer.
const AHEAD: usize = 2;

/// How many items to put in one chunk so that a chunk holds about
/// `target` rows when an item holds `per_item` rows on average.
pub fn chunk_len(per_item: u64, target: u64) -> usize {
    (target / per_item.max(1)).clamp(1, 1 << 16) as usize
}

/// Calls `produce(i, buf)` for every item `0..n` (on up to
/// `available_parallelism` threads, in chunks of `chunk` items) and hands
/// the bytes of each chunk to `write`, in item order. Memory stays at a few
/// chunks per thread, whatever `n` is. Stops at the first write error and
/// returns it.
pub fn ordered<P, W>(n: usize, chunk: usize, produce: P, mut write: W) -> std::io::Result<()>
where
    P: Fn(usize, &mut Vec<u8>) + Sync,
    W: FnMut(&[u8]) -> std::io::Result<()>,
{
    let chunk = chunk.max(1);
    let chunks = n.div_ceil(chunk);
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(8)
        .min(chunks);
    let fill = |c: usize, buf: &mut Vec<u8>| {
        buf.clear();
        (c * chunk..n.min((c + 1) * chunk)).for_each(|i| produce(i, buf));
    };
    if threads <= 1 {
        let mut buf = Vec::new();
        for c in 0..chunks {
            fill(c, &mut buf);
            write(&buf)?;
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        // Worker w fills chunks w, w + threads, ...; the writer takes them
        // round robin, so it sees them in order. Emptied buffers go back.
        let mut lanes: Vec<Lane> = Vec::new();
        for w in 0..threads {
            let (full_tx, full_rx): (SyncSender<Vec<u8>>, _) = sync_channel(AHEAD);
            let (empty_tx, empty_rx) = channel::<Vec<u8>>();
            let fill = &fill;
            scope.spawn(move || {
                // A fixed pool of buffers per worker, reused: fresh memory
                // costs the kernel a page clear per page, every time.
                let mut fresh = AHEAD + 2;
                for c in (w..chunks).step_by(threads) {
                    let mut buf = if fresh > 0 {
                        fresh -= 1;
                        Vec::new()
                    } else {
                        match empty_rx.recv() {
                            Ok(buf) => buf,
                            Err(_) => return, // the writer stopped
                        }
                    };
                    fill(c, &mut buf);
                    if full_tx.send(buf).is_err() {
                        return; // the writer stopped
                    }
                }
            });
            lanes.push((full_rx, empty_tx));
        }
        for c in 0..chunks {
            let (full, empty) = &lanes[c % threads];
            let buf = full.recv().expect("a worker ended before its last chunk");
            write(&buf)?;
            let _ = empty.send(buf);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(n: usize, chunk: usize) -> Vec<u8> {
        let mut out = Vec::new();
        ordered(
            n,
            chunk,
            |i, buf| buf.extend_from_slice(format!("{i},").as_bytes()),
            |b| {
                out.extend_from_slice(b);
                Ok(())
            },
        )
        .unwrap();
        out
    }

    #[test]
    fn items_come_out_in_order_for_any_chunking() {
        for n in [0, 1, 2, 7, 100, 1001] {
            let want: String = (0..n).map(|i| format!("{i},")).collect();
            for chunk in [1, 2, 3, 64, 5000] {
                assert_eq!(
                    String::from_utf8(collect(n, chunk)).unwrap(),
                    want,
                    "{n}/{chunk}"
                );
            }
        }
    }

    #[test]
    fn a_write_error_stops_everything_and_is_returned() {
        let mut writes = 0;
        let r = ordered(
            10_000,
            1,
            |i, buf| buf.push(i as u8),
            |_| {
                writes += 1;
                if writes == 3 {
                    Err(std::io::Error::other("disk full"))
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(r.unwrap_err().to_string(), "disk full");
        assert_eq!(writes, 3);
    }

    #[test]
    fn chunk_len_aims_at_the_target() {
        assert_eq!(chunk_len(0, 4096), 4096);
        assert_eq!(chunk_len(420, 4096), 9);
        assert_eq!(chunk_len(100_000, 4096), 1);
    }
}
