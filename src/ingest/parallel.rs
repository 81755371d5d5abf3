//! Typing a file's blocks of records on worker threads while the calling thread reads the file
//! and takes the results back in file order.
//!
//! The calling thread reads blocks ([`ChunkSource`]), queues them for `threads` workers, and
//! hands each worker's result to `consume` in block order. A block boundary is a guess that
//! the worker's parse proves; when it was wrong ([`ChunkParse::tail`]), the unfinished record
//! and the next block are parsed again, on the calling thread, and the worker's result for that
//! next block is dropped. Memory stays bounded: at most `threads + 2` blocks are in flight.
use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::sync::{mpsc, Condvar, Mutex};

use super::encoding::SourceEncoding;
use super::record::{Bytes, Chunk, ChunkEnd, ChunkParse, ChunkSource, Layout};

/// Bytes per block: large enough that handing blocks around costs nothing, small enough that
/// the blocks in flight (and what is made of them) stay a few MB.
pub(crate) const CHUNK_BYTES: usize = 256 * 1024;

/// The worker threads to use: one per core up to 8 (the calling thread's share, reading and
/// the in-order work, limits what more would bring), or none (read on the calling thread)
/// with one core.
pub fn default_threads() -> usize {
    match std::thread::available_parallelism() {
        Ok(n) if n.get() > 1 => n.get().min(8),
        _ => 0,
    }
}

/// A block's bytes and what is known about them, for the `work` function.
pub(crate) struct Block<'a> {
    pub layout: &'a Layout,
    pub data: &'a [u8],
    pub first_line: u64,
    pub end: ChunkEnd,
    pub encoding: SourceEncoding,
}

struct Queue {
    jobs: VecDeque<(u64, Chunk)>,
    closed: bool,
}

/// Runs `work` over every block of `source` and `consume` over the results in file order.
/// With `threads == 0` everything runs on the calling thread. Stops at the first error of
/// `consume`.
pub(crate) fn run<R: Read, O: Send, E>(
    layout: &Layout,
    source: &mut ChunkSource<R>,
    threads: usize,
    work: &(dyn Fn(&Block<'_>) -> (O, ChunkParse) + Sync),
    consume: &mut dyn FnMut(O, ChunkParse) -> Result<(), E>,
) -> Result<(), E> {
    if threads == 0 {
        let mut tail = Tail::default();
        while let Some(chunk) = source.next_chunk() {
            let done = if tail.pending() {
                None
            } else {
                Some(work(&block(layout, &chunk.data, &chunk)))
            };
            let (out, parse) = done.unzip();
            let (out, parse) = tail.resolve(layout, chunk, out, parse, work, source);
            consume(out, parse)?;
        }
        return Ok(());
    }
    let queue = Mutex::new(Queue {
        jobs: VecDeque::new(),
        closed: false,
    });
    let ready = Condvar::new();
    let close = || {
        lock(&queue).closed = true;
        ready.notify_all();
    };
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(u64, Chunk, O, ChunkParse)>();
        for _ in 0..threads {
            let tx = tx.clone();
            let (queue, ready) = (&queue, &ready);
            scope.spawn(move || loop {
                let (seq, chunk) = {
                    let mut q = lock(queue);
                    loop {
                        if q.closed {
                            return;
                        }
                        if let Some(job) = q.jobs.pop_front() {
                            break job;
                        }
                        q = ready.wait(q).unwrap_or_else(|e| e.into_inner());
                    }
                };
                let (out, parse) = work(&block(layout, &chunk.data, &chunk));
                if tx.send((seq, chunk, out, parse)).is_err() {
                    return;
                }
            });
        }
        drop(tx);
        let max_in_flight = threads as u64 + 2;
        let (mut read, mut taken) = (0u64, 0u64);
        let mut source_done = false;
        let mut early: BTreeMap<u64, (Chunk, O, ChunkParse)> = BTreeMap::new();
        let mut tail = Tail::default();
        let result = loop {
            while !source_done && read - taken < max_in_flight {
                match source.next_chunk() {
                    Some(chunk) => {
                        lock(&queue).jobs.push_back((read, chunk));
                        ready.notify_one();
                        read += 1;
                    }
                    None => source_done = true,
                }
            }
            if taken == read {
                break Ok(());
            }
            let (chunk, out, parse) = loop {
                if let Some(done) = early.remove(&taken) {
                    break done;
                }
                match rx.recv() {
                    Ok((seq, chunk, out, parse)) => {
                        early.insert(seq, (chunk, out, parse));
                    }
                    // Every worker is gone: one panicked, and the scope passes the panic on.
                    Err(_) => {
                        close();
                        panic!("a reader thread stopped");
                    }
                }
            };
            taken += 1;
            let (out, parse) = tail.resolve(layout, chunk, Some(out), Some(parse), work, source);
            if let Err(e) = consume(out, parse) {
                break Err(e);
            }
        };
        close();
        result
    })
}

fn lock(queue: &Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(|e| e.into_inner())
}

fn block<'a>(layout: &'a Layout, data: &'a [u8], chunk: &Chunk) -> Block<'a> {
    Block {
        layout,
        data,
        first_line: chunk.first_line,
        end: chunk.end,
        encoding: chunk.encoding,
    }
}

/// The unfinished record left by a block whose end was not a record boundary.
#[derive(Default)]
struct Tail {
    rest: Option<(Bytes, u64)>,
}

impl Tail {
    fn pending(&self) -> bool {
        self.rest.is_some()
    }

    /// The result for `chunk`: the worker's, or with a tail pending, a new parse of the tail
    /// and the block. Keeps the new tail if this one also ends inside a record.
    fn resolve<R: Read, O>(
        &mut self,
        layout: &Layout,
        chunk: Chunk,
        out: Option<O>,
        parse: Option<ChunkParse>,
        work: &(dyn Fn(&Block<'_>) -> (O, ChunkParse) + Sync),
        source: &mut ChunkSource<R>,
    ) -> (O, ChunkParse) {
        let (data, out, parse) = match (self.rest.take(), out, parse) {
            (None, Some(out), Some(parse)) => (chunk.data, out, parse),
            (rest, _, _) => {
                let (mut data, first_line) = rest.expect("no worker result without a tail");
                data.extend_from_slice(&chunk.data);
                source.recycle(chunk.data);
                let (out, parse) = work(&Block {
                    layout,
                    data: &data,
                    first_line,
                    end: chunk.end,
                    encoding: chunk.encoding,
                });
                (data, out, parse)
            }
        };
        if let Some((at, line)) = parse.tail {
            self.rest = Some((Bytes::from_vec(data[at..].to_vec()), line));
        }
        source.recycle(data);
        (out, parse)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use crate::ingest::{
        FileError, NoticeReadOptions, NoticeReader, ReadStats, RegistrationReader, RowError,
    };

    const HEADER: &str =
        "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日,受付日,個人番号,氏名";

    type Seen = (
        Vec<Result<(u64, String, u64), RowError>>,
        Result<ReadStats, FileError>,
    );

    fn opts() -> NoticeReadOptions {
        NoticeReadOptions {
            as_of: NaiveDate::from_ymd_opt(2024, 6, 30).unwrap(),
        }
    }

    fn serial(bytes: &[u8]) -> Seen {
        let mut reader = NoticeReader::new(bytes, opts()).unwrap();
        let rows = reader
            .by_ref()
            .map(|r| r.map(|r| (r.line, r.notice_id.as_str().to_owned(), r.content_hash)))
            .collect();
        (rows, reader.finish())
    }

    fn parallel(bytes: &[u8], threads: usize, chunk: usize) -> Seen {
        let mut reader = NoticeReader::new(bytes, opts()).unwrap();
        // Read a row or two by the iterator first: switching mid-file must lose nothing.
        let mut rows: Vec<_> = reader
            .by_ref()
            .take(2)
            .map(|r| r.map(|r| (r.line, r.notice_id.as_str().to_owned(), r.content_hash)))
            .collect();
        reader
            .par_for_each_in(
                threads,
                chunk,
                |n: &mut usize, r| {
                    *n += 1;
                    (r.line, r.notice_id.to_owned(), r.content_hash)
                },
                |_| {},
                |_, block| {
                    rows.extend(block);
                    Ok::<(), ()>(())
                },
            )
            .unwrap();
        (rows, reader.finish())
    }

    /// Every kind of record the splitter could get wrong, in a fixed pseudo-random mix.
    fn tricky_file(n: usize) -> Vec<u8> {
        let parts = [
            "A{i},資格取得,E1,10,{i},2024-04-01,2024-04-03,123456789018,山田\n",
            "A{i},資格取得,E1,10,{i},2024-04-01,2024-04-03,,\"山田\n太郎\"\n",
            "A{i},資格取得,E1,10,{i},2024-04-01,2024-04-03,,山\"田\n",
            "A{i},資格取得,E1,10,{i},2024-04-01,2024-04-03,x\"y,\"a\nb\"\n",
            "A{i},資格取得,E1,10,{i},2024-04-01,2024-04-03,,\"a,\"\"b\"\"\n\nc\"\n",
            "\n\n,,,,,,,,\n  ,　,\n",
            "A{j},資格取得,E1,10,{j},2024-04-01,2024-04-03,123456789018,山田\n",
            "A{j},資格取得,E1,10,{j},2024-04-01,2024-04-04,,\n",
            "Ａ{i},資格取得,Ｅ１,１０,{i},R6.4.1,令和6年4月3日,,\n",
            "A{i},転居,E1,10,{i},2024-04-01,2024-04-03,,\n",
            "A{i},資格取得,E1,10,{i},2024-04-01\n",
            "\u{feff}A{i},資格取得,E1,10,{i},2024-04-01,2024-04-03,,\n",
            "A{i},資格取得,E1,10,{i},2024-04-01,2024-13-03,,\r\n",
            "A{i},資格取得,E1,10,{i},2024-04-01,2024-04-03,,\"\"\"\"\r",
        ];
        let mut text = format!("{HEADER}\n");
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for i in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let part = parts[(x % parts.len() as u64) as usize];
            let j = (x >> 20) as usize % (i + 1);
            text.push_str(
                &part
                    .replace("{i}", &i.to_string())
                    .replace("{j}", &j.to_string()),
            );
        }
        // An unclosed quote at the end of the file takes the rest of the file.
        text.push_str("Z1,資格取得,E1,10,1,2024-04-01,2024-04-03,,\"open\nend");
        text.into_bytes()
    }

    #[test]
    fn blocks_read_exactly_like_the_iterator() {
        let files = [
            tricky_file(300),
            format!("{HEADER}\r\nA1,資格取得,E1,10,1,2024-04-01,2024-04-03,,\r\n").into_bytes(),
            format!("{HEADER}\n").into_bytes(),
            {
                let mut b = tricky_file(40);
                b.extend_from_slice(b"\nA9,\xff,E1,10,1,2024-04-01,2024-04-03,,\n");
                b
            },
            encoding_rs::SHIFT_JIS
                .encode(std::str::from_utf8(&tricky_file(120)).unwrap())
                .0
                .into_owned(),
        ];
        for file in &files {
            let expected = serial(file);
            for chunk in [1, 2, 3, 7, 16, 61, 200, 1000, 1 << 16] {
                for threads in [0, 1, 3] {
                    let got = parallel(file, threads, chunk);
                    assert_eq!(got.0, expected.0, "chunk {chunk}, threads {threads}");
                    assert_eq!(
                        format!("{:?}", got.1),
                        format!("{:?}", expected.1),
                        "chunk {chunk}, threads {threads}"
                    );
                }
            }
        }
    }

    #[test]
    fn registration_blocks_read_exactly_like_the_iterator() {
        let mut text = String::from("受付番号,登録完了日時,処理結果,エラーコード,エラー内容\n");
        for i in 0..200 {
            text.push_str(&match i % 6 {
                0 => format!("N{i},2024-05-01 10:00,正常,,\n"),
                1 => format!("N{i},,エラー,E1,\"番号 123456789018\nが不一致\"\n"),
                2 => format!("N{i},2024-02-30,正常,,\n"),
                3 => format!("N{i},2024-05-01,保留,,\n\n"),
                4 => format!("Ｎ{i},R6.5.1 9:00,ok,,\"a\"\"b\"\r\n"),
                _ => format!("N{i},2024-05-01T01:00:00Z,,,x\"y,\"z\nw\"\n"),
            });
        }
        let rows = |reader: &mut RegistrationReader<&[u8]>, chunk: Option<(usize, usize)>| {
            let mut rows = Vec::new();
            match chunk {
                None => rows.extend(reader.by_ref().map(|r| {
                    r.map(|r| (r.line, r.notice_id.unwrap().into_string(), r.registered_at))
                })),
                Some((threads, chunk)) => reader
                    .par_for_each_in(
                        threads,
                        chunk,
                        |_: &mut (), r| (r.line, r.notice_id.to_owned(), r.registered_at),
                        |_| {},
                        |_, block| {
                            rows.extend(block);
                            Ok::<(), ()>(())
                        },
                    )
                    .unwrap(),
            }
            rows
        };
        let mut reader = RegistrationReader::new(text.as_bytes()).unwrap();
        let expected = rows(&mut reader, None);
        let expected_stats = reader.finish().unwrap();
        for chunk in [1, 5, 64, 4096] {
            for threads in [0, 2] {
                let mut reader = RegistrationReader::new(text.as_bytes()).unwrap();
                assert_eq!(rows(&mut reader, Some((threads, chunk))), expected);
                assert_eq!(reader.finish().unwrap(), expected_stats);
            }
        }
    }

    /// Fails like a network share dropping mid-file.
    struct FailsAfter<'a>(&'a [u8]);

    impl std::io::Read for FailsAfter<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("接続が切れました"));
            }
            let n = self.0.len().min(out.len()).min(3000);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_ends_the_blocks_where_it_happened() {
        let file = tricky_file(3000);
        // Just past the sniffer's 64 KiB (met while the first block is read ahead), and later.
        for cut in [65_536 + 100, file.len() * 2 / 3] {
            a_read_error_ends_the_blocks_where_it_happened_at(&file[..cut]);
        }
    }

    fn a_read_error_ends_the_blocks_where_it_happened_at(cut: &[u8]) {
        let mut reader = NoticeReader::new(FailsAfter(cut), opts()).unwrap();
        let expected: Vec<_> = reader
            .by_ref()
            .map(|r| r.map(|r| (r.line, r.content_hash)))
            .collect();
        assert!(!expected.is_empty());
        assert!(reader.finish().is_err());
        for chunk in [100, 5000, 1 << 20] {
            let mut reader = NoticeReader::new(FailsAfter(cut), opts()).unwrap();
            let mut rows = Vec::new();
            reader
                .par_for_each_in(
                    2,
                    chunk,
                    |_: &mut (), r| (r.line, r.content_hash),
                    |_| {},
                    |_, block| {
                        rows.extend(block);
                        Ok::<(), ()>(())
                    },
                )
                .unwrap();
            assert_eq!(rows, expected, "chunk {chunk}");
            assert_eq!(
                reader.finish().unwrap_err().to_string(),
                "ファイルを読み込めません: 接続が切れました"
            );
        }
    }

    #[test]
    fn an_error_from_consume_stops_the_read() {
        let file = tricky_file(2000);
        let mut reader = NoticeReader::new(&file[..], opts()).unwrap();
        let mut blocks = 0;
        let result = reader.par_for_each_in(
            2,
            256,
            |_: &mut (), _| (),
            |_| {},
            |_, _| {
                blocks += 1;
                if blocks == 3 {
                    Err("stop")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(result, Err("stop"));
        assert_eq!(blocks, 3);
    }
}
