//! Disk-backed caches of what is slow to make, kept between builds in `.tminus/cache/`:
//! highlighted code by a stable hash of (syntax, code) (`highlight.bin`), whole rendered
//! Markdown documents by a stable hash of (Markdown, link root) (`render.bin`), and each
//! guide's, runbook's and page's analyzed search documents by a stable hash of what they
//! are made of (`search.bin`). syntect is by far the slowest step of a build, then the
//! search index and rendering Markdown: each is made once per process (runbooks and guides
//! repeat commands, and `serve` rebuilds often) and a rebuild makes only what changed.
//!
//! A cache is never held in memory whole (at 10,000 pages they are tens to ~150 MB):
//! loading a file only indexes its records, a hit reads its one record back, and entries
//! made in this process go to an unlinked spill file beside it (or stay in memory when no
//! file is in use, as for `serve`). Saving appends the new entries to the file loaded, in
//! one write (builds sharing the cache cannot interleave records), or — when more than a
//! quarter of the file's bytes went unused by this build, or the new entries exceed
//! `MAX_APPEND` — writes the used entries to a new file and renames it over the old one;
//! nothing is written when nothing was added and everything was used.
//!
//! File format: a header line (`header`), then records of key (u64 LE), length (u32 LE),
//! a CRC-32 of the bytes, a CRC-32 of the twelve bytes before and these three fields
//! (together [`RECORD_HEAD`] bytes), and the bytes (UTF-8 text for the first two caches).
//! Nothing in a file is trusted: a file with another header is ignored; a record head whose
//! checksum is wrong ends the file there (its length cannot be trusted, so neither can
//! what follows), as does a truncated record (a build killed while appending); a record
//! whose bytes do not match their checksum is dropped when it is read, so the entry is
//! made again, as if it had never been cached. A later record for the same key replaces an
//! earlier one (that is how a dropped record is replaced by appending).
//!
//! Temporary files (`<name>.tmp-<pid>` while a file is rewritten, `.spill-<pid>` for an
//! instant before it is unlinked) are removed when a save fails, and those of processes
//! that no longer run are removed by the next save ([`remove_stale`]).
//!
//! Why this file is long: about 300 of its lines are the unit tests of the record format
//! (every byte flipped, every truncation) that belong beside the code they check; the
//! format itself, loading, lookup, spilling and saving, is one concern.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Where a cached entry is.
enum Place {
    /// In `files[file]`, at `offset`, `len` bytes whose CRC-32 is `crc`.
    File {
        file: usize,
        offset: u64,
        len: u32,
        crc: u32,
    },
    Memory(Arc<[u8]>),
}

struct Entry {
    place: Place,
    /// Used by this build: only these are kept when the file is rewritten, so it does not
    /// keep growing with what no longer exists.
    used: bool,
}

#[derive(Default)]
struct State {
    /// Loaded cache files and the spill file, read back by offset.
    files: Vec<File>,
    /// Index in `files` of the spill file, and its length.
    spill: Option<(usize, u64)>,
    entries: HashMap<u64, Entry>,
    /// The last file loaded: its index in `files`, path, records and bytes of text.
    loaded: Option<Loaded>,
    /// Whether an entry was added since loading.
    added: bool,
}

struct Loaded {
    file: usize,
    path: std::path::PathBuf,
    records: usize,
    bytes: u64,
    /// Whether its records end exactly where the file does (else it is rewritten, not
    /// appended to: what follows a damaged or cut record could not be read).
    whole: bool,
}

/// A cache of bytes (or text) by key; one of each kind per process ([`highlighted`],
/// [`rendered`], [`search`]).
pub struct Cache {
    /// What it holds, in its file's header: `highlight`, `render`, `search`.
    kind: &'static str,
    state: Mutex<State>,
}

/// The most bytes appended to a cache file in one save; more is written as a new file
/// (streamed), so a build that made much new never holds it all in memory at once.
const MAX_APPEND: u64 = 16 << 20;

/// Bytes before a record's bytes: key, length, CRC-32 of the bytes, CRC-32 of the first
/// sixteen.
const RECORD_HEAD: u64 = 20;

/// Identifies the cache format, what it holds and what produced its entries (`producer`).
fn header(kind: &str, producer: &str) -> String {
    format!("tminus-{kind}-cache 4 {producer}\n")
}

/// A record found in a file: key, offset of the bytes, their length and CRC-32.
type Record = (u64, u64, u32, u32);

impl Cache {
    pub fn new(kind: &'static str) -> Self {
        Self {
            kind,
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached text for `key`, marking it used.
    pub fn get(&self, key: u64) -> Option<String> {
        String::from_utf8(self.get_bytes(key)?).ok()
    }

    /// The cached bytes for `key`, marking them used.
    pub fn get_bytes(&self, key: u64) -> Option<Vec<u8>> {
        let mut state = self.lock();
        let State { files, entries, .. } = &mut *state;
        let entry = entries.get_mut(&key)?;
        let bytes = match &entry.place {
            Place::Memory(bytes) => Some(bytes.to_vec()),
            Place::File {
                file,
                offset,
                len,
                crc,
            } => read_at(&mut files[*file], *offset, *len, *crc).ok(),
        };
        let Some(bytes) = bytes else {
            // Damaged (or unreadable): forgotten, so it is made again and saved anew.
            entries.remove(&key);
            return None;
        };
        entry.used = true;
        Some(bytes)
    }

    pub fn insert(&self, key: u64, text: &str) {
        self.insert_bytes(key, text.as_bytes());
    }

    pub fn insert_bytes(&self, key: u64, bytes: &[u8]) {
        let mut state = self.lock();
        state.added = true;
        let place = match spill(&mut state, bytes) {
            Ok(place) => place,
            // A full disk only costs the memory.
            Err(_) => Place::Memory(Arc::from(bytes)),
        };
        state.entries.insert(key, Entry { place, used: true });
    }

    /// Whether new entries go to a spill file (see [`Cache::spill_to`]).
    pub fn spills(&self) -> bool {
        self.lock().spill.is_some()
    }

    /// From now on, keeps new entries in a file in `dir` (created if needed) rather than
    /// in memory. Where that fails they stay in memory.
    pub fn spill_to(&self, dir: &Path) {
        let mut state = self.lock();
        if state.spill.is_none() {
            if let Ok(file) = spill_file(dir) {
                state.files.push(file);
                state.spill = Some((state.files.len() - 1, 0));
            }
        }
    }

    /// Indexes the records of the cache file at `path` written by `producer` (a missing or
    /// stale file is ignored).
    pub fn load(&self, path: &Path, producer: &str) {
        let mut state = self.lock();
        if state.loaded.as_ref().is_some_and(|l| l.path == path) {
            return;
        }
        let Ok(file) = File::open(path) else { return };
        let Ok((records, whole)) = index(&file, &header(self.kind, producer)) else {
            return;
        };
        state.files.push(file);
        let file = state.files.len() - 1;
        state.loaded = Some(Loaded {
            file,
            path: path.to_path_buf(),
            records: records.len(),
            bytes: records.iter().map(|r| u64::from(r.2)).sum(),
            whole,
        });
        // The last record of a key wins (one that replaced a damaged record is appended).
        let mut latest: HashMap<u64, Place> = HashMap::with_capacity(records.len());
        for (key, offset, len, crc) in records {
            latest.insert(
                key,
                Place::File {
                    file,
                    offset,
                    len,
                    crc,
                },
            );
        }
        for (key, place) in latest {
            state
                .entries
                .entry(key)
                .or_insert(Entry { place, used: false });
        }
    }

    /// Saves the entries used since loading to `path`: nothing when they are exactly the
    /// records of the file loaded; the new ones appended when that file is `path` and at
    /// most a quarter of its bytes went unused; else all used entries, to a new file
    /// renamed over `path`.
    pub fn save(&self, path: &Path, producer: &str) -> io::Result<()> {
        let mut state = self.lock();
        let State {
            files,
            entries,
            loaded,
            added,
            ..
        } = &mut *state;
        let from_loaded = |e: &Entry| matches!((&e.place, loaded.as_ref()), (Place::File { file, .. }, Some(l)) if *file == l.file);
        let used_loaded: Vec<&Entry> = entries
            .values()
            .filter(|e| e.used && from_loaded(e))
            .collect();
        let same_file = loaded
            .as_ref()
            .filter(|l| l.path == path && l.whole && path.exists());
        if let Some(l) = same_file {
            if !*added && used_loaded.len() == l.records {
                return Ok(());
            }
            let used_bytes: u64 = used_loaded.iter().map(|e| e.len()).sum();
            let mut keys: Vec<u64> = entries
                .iter()
                .filter(|(_, e)| e.used && !from_loaded(e))
                .map(|(k, _)| *k)
                .collect();
            let new_bytes: u64 = keys.iter().map(|k| entries[k].len() + RECORD_HEAD).sum();
            if (l.bytes - used_bytes.min(l.bytes)) * 4 <= l.bytes && new_bytes <= MAX_APPEND {
                // Appended in one write: two builds sharing the cache cannot interleave
                // their records, and a build killed meanwhile leaves at most a cut last
                // record, which loading skips.
                keys.sort_unstable();
                let mut batch = Vec::with_capacity(new_bytes as usize);
                write_records(&mut batch, files, entries, &keys)?;
                return fs::OpenOptions::new()
                    .append(true)
                    .open(path)?
                    .write_all(&batch);
            }
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let mut keys: Vec<u64> = entries
            .iter()
            .filter(|(_, e)| e.used)
            .map(|(k, _)| *k)
            .collect();
        keys.sort_unstable();
        let written = (|| {
            let mut out = BufWriter::new(File::create(&tmp)?);
            out.write_all(header(self.kind, producer).as_bytes())?;
            write_records(&mut out, files, entries, &keys)?;
            out.into_inner().map_err(|e| e.into_error())?;
            fs::rename(&tmp, path)
        })();
        if written.is_err() {
            // A full disk must not leave a temporary file behind (nor keep it full).
            let _ = fs::remove_file(&tmp);
        }
        written
    }
}

impl Entry {
    /// Bytes of text.
    fn len(&self) -> u64 {
        match &self.place {
            Place::File { len, .. } => u64::from(*len),
            Place::Memory(bytes) => bytes.len() as u64,
        }
    }
}

/// Writes the records of `keys` (head, then bytes). A record of a loaded file that no
/// longer matches its checksum is left out.
fn write_records(
    out: &mut impl Write,
    files: &mut [File],
    entries: &HashMap<u64, Entry>,
    keys: &[u64],
) -> io::Result<()> {
    for key in keys {
        let bytes = match &entries[key].place {
            Place::Memory(bytes) => bytes.to_vec(),
            Place::File {
                file,
                offset,
                len,
                crc,
            } => match read_at(&mut files[*file], *offset, *len, *crc) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::InvalidData => continue,
                Err(e) => return Err(e),
            },
        };
        let len = u32::try_from(bytes.len()).map_err(|_| io::Error::other("entry too large"))?;
        out.write_all(&record_head(*key, len, crc32fast::hash(&bytes)))?;
        out.write_all(&bytes)?;
    }
    Ok(())
}

/// The [`RECORD_HEAD`] bytes before a record's bytes.
fn record_head(key: u64, len: u32, crc: u32) -> [u8; RECORD_HEAD as usize] {
    let mut head = [0u8; RECORD_HEAD as usize];
    head[..8].copy_from_slice(&key.to_le_bytes());
    head[8..12].copy_from_slice(&len.to_le_bytes());
    head[12..16].copy_from_slice(&crc.to_le_bytes());
    let check = crc32fast::hash(&head[..16]);
    head[16..].copy_from_slice(&check.to_le_bytes());
    head
}

/// The records of a cache file, up to the first damaged or cut record head (see the
/// module doc), and whether they end where the file does. A file with another header is
/// an `InvalidData` error: it is not the cache, and is replaced.
fn index(file: &File, header: &str) -> io::Result<(Vec<Record>, bool)> {
    let size = file.metadata()?.len();
    let mut reader = BufReader::new(file);
    let mut first = Vec::new();
    reader.read_until(b'\n', &mut first)?;
    if first != header.as_bytes() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a cache file of this kind and producer",
        ));
    }
    let mut records = Vec::new();
    let mut at = first.len() as u64;
    let mut head = [0u8; RECORD_HEAD as usize];
    while at + RECORD_HEAD <= size && reader.read_exact(&mut head).is_ok() {
        let field = |i: usize| u32::from_le_bytes(head[i..i + 4].try_into().expect("4 bytes"));
        if crc32fast::hash(&head[..16]) != field(16) {
            break;
        }
        let key = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
        let (len, crc) = (field(8), field(12));
        if at + RECORD_HEAD + u64::from(len) > size {
            break;
        }
        records.push((key, at + RECORD_HEAD, len, crc));
        reader.seek_relative(i64::from(len))?;
        at += RECORD_HEAD + u64::from(len);
    }
    Ok((records, at == size))
}

/// The `len` bytes at `offset`, checked against their CRC-32 (`InvalidData` when they do
/// not match).
fn read_at(file: &mut File, offset: u64, len: u32, crc: u32) -> io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = vec![0; len as usize];
    file.read_exact(&mut bytes)?;
    if crc32fast::hash(&bytes) != crc {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a cache record does not match its checksum",
        ));
    }
    Ok(bytes)
}

/// A new file in `dir` for this process's new entries, unlinked at once where the system
/// allows it, so nothing is left behind whatever happens to the process.
fn spill_file(dir: &Path) -> io::Result<File> {
    fs::create_dir_all(dir)?;
    let path = dir.join(format!(".spill-{}", std::process::id()));
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    let _ = fs::remove_file(&path);
    Ok(file)
}

/// Appends `bytes` to the spill file, if there is one.
fn spill(state: &mut State, bytes: &[u8]) -> io::Result<Place> {
    let Some((file, len)) = state.spill else {
        return Ok(Place::Memory(Arc::from(bytes)));
    };
    let f = &mut state.files[file];
    f.seek(SeekFrom::Start(len))?;
    f.write_all(bytes)?;
    let size = u32::try_from(bytes.len()).map_err(|_| io::Error::other("entry too large"))?;
    state.spill = Some((file, len + u64::from(size)));
    Ok(Place::File {
        file,
        offset: len,
        len: size,
        crc: crc32fast::hash(bytes),
    })
}

/// The process's cache of highlighted code.
pub fn highlighted() -> &'static Cache {
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| Cache::new("highlight"))
}

/// The process's cache of rendered Markdown documents.
pub fn rendered() -> &'static Cache {
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| Cache::new("render"))
}

/// The process's cache of analyzed search documents, per source (guide, runbook, page).
pub fn search() -> &'static Cache {
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| Cache::new("search"))
}

/// Loads the caches an earlier build saved in `dir` (`.tminus/cache/`); a missing or
/// stale file is ignored.
pub fn load_all(dir: &Path) {
    for (cache, file, producer) in all() {
        cache.load(&dir.join(file), &producer);
    }
}

/// Keeps what is made from now on in files in `dir` rather than in memory, until
/// [`save_all`] (for `build`, which saves them anyway). Whole rendered documents and search
/// documents are cached only then: `serve` would otherwise hold every version of every
/// page in memory.
pub fn spill_all(dir: &Path) {
    for (cache, _, _) in all() {
        cache.spill_to(dir);
    }
}

/// Saves the caches to `dir`: what this build made or reused (see [`Cache::save`]), after
/// removing the temporary files that processes no longer running left there.
pub fn save_all(dir: &Path) -> io::Result<()> {
    remove_stale(dir);
    for (cache, file, producer) in all() {
        cache.save(&dir.join(file), &producer)?;
    }
    Ok(())
}

/// What made the highlighted code: a different tminus, syntect or class prefix (the `hl-`
/// of `markdown::highlight`, whose tests check it) makes it stale. Defined here, not in
/// `markdown`, which uses the caches: the caches depend on nothing above them.
pub const HIGHLIGHT_PRODUCER: &str = concat!(env!("CARGO_PKG_VERSION"), " syntect-5 hl-");
/// Removes the temporary files in `dir` (`<name>.tmp-<pid>`, `.spill-<pid>`) of processes
/// that no longer run: a build killed while saving, or on a full disk before this
/// version. Those of a running process (another build saving now) are left alone.
pub fn remove_stale(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = temporary_of(&name) {
            if !process_is_running(pid) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// The process that made the temporary file `name` (`render.tmp-41`, `.spill-41`).
fn temporary_of(name: &str) -> Option<u32> {
    let pid = match name.strip_prefix(".spill-") {
        Some(pid) => pid,
        None => name.rsplit_once(".tmp-")?.1,
    };
    pid.parse().ok()
}

/// Whether the process `pid` is running (and is not this one: this process's own temporary
/// files are in progress only while it saves). Where that cannot be told, `false`.
pub fn process_is_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    #[cfg(target_os = "linux")]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists; nothing is sent.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Each cache, its file and what makes its entries stale: the tminus version and syntect
/// (in the highlight producer, which the others include), and each format's number, bumped
/// when what it caches changes.
fn all() -> [(&'static Cache, &'static str, String); 3] {
    let highlight = HIGHLIGHT_PRODUCER.to_string();
    [
        (highlighted(), "highlight.bin", highlight.clone()),
        (rendered(), "render.bin", format!("render-3 {highlight}")),
        (search(), "search.bin", format!("search-2 {highlight}")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_the_file_and_only_used_ones_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache/highlight.bin");
        let first = Cache::new("highlight");
        first.spill_to(path.parent().unwrap());
        first.load(&path, "test");
        first.insert(1, "<span>one</span>");
        first.insert(2, "two");
        assert_eq!(first.get(1).as_deref(), Some("<span>one</span>"));
        first.save(&path, "test").unwrap();
        // No spill file or temporary file is left in the folder.
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["highlight.bin"]);

        let second = Cache::new("highlight");
        second.load(&path, "test");
        assert_eq!(second.get(2).as_deref(), Some("two"));
        let before = fs::metadata(&path).unwrap().modified().unwrap();
        // Entry 1 was not used: the file is rewritten without it.
        second.save(&path, "test").unwrap();
        assert_ne!(fs::metadata(&path).unwrap().modified().unwrap(), before);

        let third = Cache::new("highlight");
        third.load(&path, "test");
        assert_eq!(third.get(1), None);
        assert_eq!(third.get(2).as_deref(), Some("two"));
        // Every record used, nothing added: nothing to write.
        let mtime = fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        third.save(&path, "test").unwrap();
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    }

    #[test]
    fn new_entries_are_appended_until_a_quarter_of_the_file_is_unused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("render.bin");
        let first = Cache::new("render");
        for k in 0..8u64 {
            first.insert(k, &"x".repeat(100));
        }
        first.save(&path, "p").unwrap();
        let size = fs::metadata(&path).unwrap().len();

        // All but one used, one added: appended (the unused one stays).
        let second = Cache::new("render");
        second.load(&path, "p");
        second.load(&path, "p"); // loading the same file again changes nothing
        for k in 0..7u64 {
            assert!(second.get(k).is_some());
        }
        second.insert(100, "new");
        second.save(&path, "p").unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), size + RECORD_HEAD + 3);
        let third = Cache::new("render");
        third.load(&path, "p");
        assert_eq!(third.get(100).as_deref(), Some("new"));
        assert_eq!(third.get(7).as_deref(), Some(&*"x".repeat(100)));

        // Half unused: rewritten with only what was used.
        let fourth = Cache::new("render");
        fourth.load(&path, "p");
        for k in 0..4u64 {
            fourth.get(k);
        }
        fourth.save(&path, "p").unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().len(),
            header("render", "p").len() as u64 + 4 * (RECORD_HEAD + 100)
        );
        let fifth = Cache::new("render");
        fifth.load(&path, "p");
        assert_eq!(fifth.get(5), None);
        assert!(fifth.get(3).is_some());
    }

    #[test]
    fn a_file_from_another_producer_or_cut_short_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("highlight.bin");
        let cache = Cache::new("highlight");
        cache.insert(7, "seven");
        cache.insert(8, "eight");
        cache.save(&path, "v1").unwrap();

        let other = Cache::new("highlight");
        other.load(&path, "v2");
        assert_eq!(other.get(7), None, "another producer's file is ignored");

        // Cut in the middle of the last record: the whole records before it still load.
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 2]).unwrap();
        let cut = Cache::new("highlight");
        cut.load(&path, "v1");
        assert_eq!(cut.get(7).as_deref(), Some("seven"));
        assert_eq!(cut.get(8), None);
    }

    /// A file of `n` records (`key` → `"value <key> …"`), and the entries it holds.
    fn file_of(path: &Path, n: u64) -> Vec<(u64, String)> {
        let cache = Cache::new("render");
        let entries: Vec<(u64, String)> = (0..n)
            .map(|k| {
                (
                    k * 7919,
                    format!("value {k} {}", "x".repeat(k as usize * 3)),
                )
            })
            .collect();
        for (k, v) in &entries {
            cache.insert(*k, v);
        }
        cache.save(path, "p").unwrap();
        entries
    }

    /// What a cache loaded from `path` gives for each key: the right value or nothing,
    /// never other bytes.
    fn assert_right_or_nothing(path: &Path, entries: &[(u64, String)], what: &str) -> usize {
        let cache = Cache::new("render");
        cache.load(path, "p");
        let mut hits = 0;
        for (k, v) in entries {
            match cache.get(*k) {
                Some(got) => {
                    assert_eq!(&got, v, "{what}: a damaged record was served");
                    hits += 1;
                }
                None => cache.insert(*k, v),
            }
        }
        // Saving after a damaged record is never an error, and the file is whole again.
        cache.save(path, "p").unwrap();
        let again = Cache::new("render");
        again.load(path, "p");
        for (k, v) in entries {
            assert_eq!(
                again.get(*k).as_deref(),
                Some(v.as_str()),
                "{what}: rebuilt"
            );
        }
        hits
    }

    #[test]
    fn every_single_byte_change_and_every_cut_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("render.bin");
        let entries = file_of(&path, 12);
        let clean = fs::read(&path).unwrap();
        // Every byte of the file, each changed in two ways.
        for at in 0..clean.len() {
            for flip in [0x01u8, 0xff] {
                let mut bytes = clean.clone();
                bytes[at] ^= flip;
                fs::write(&path, &bytes).unwrap();
                assert_right_or_nothing(&path, &entries, &format!("byte {at} ^ {flip:#x}"));
            }
        }
        // Every length it could be cut to.
        for len in 0..clean.len() {
            fs::write(&path, &clean[..len]).unwrap();
            assert_right_or_nothing(&path, &entries, &format!("cut to {len}"));
        }
        fs::write(&path, &clean).unwrap();
        assert_eq!(assert_right_or_nothing(&path, &entries, "intact"), 12);
    }

    #[test]
    fn a_damaged_record_is_made_again_and_appended_and_the_new_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("render.bin");
        let entries = file_of(&path, 12);
        let mut bytes = fs::read(&path).unwrap();
        // The last byte of the last record's text.
        let last = bytes.len() - 1;
        bytes[last] ^= 0x20;
        fs::write(&path, &bytes).unwrap();
        let cache = Cache::new("render");
        cache.load(&path, "p");
        let (k, v) = entries.last().unwrap();
        assert_eq!(cache.get(*k), None, "the damaged record is dropped");
        cache.insert(*k, v);
        for (k, _) in &entries {
            cache.get(*k);
        }
        let size = bytes.len() as u64;
        cache.save(&path, "p").unwrap();
        assert!(fs::metadata(&path).unwrap().len() > size, "appended");
        let again = Cache::new("render");
        again.load(&path, "p");
        assert_eq!(again.get(*k).as_deref(), Some(v.as_str()));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_save_leaves_no_temporary_file_and_stale_ones_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("render.bin");
        // The rename fails: a folder is in the way.
        fs::create_dir_all(path.join("in-the-way")).unwrap();
        let cache = Cache::new("render");
        cache.insert(1, "one");
        assert!(cache.save(&path, "p").is_err());
        let names = |dir: &Path| -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        };
        assert_eq!(
            names(dir.path()),
            ["render.bin"],
            "the temporary file is gone"
        );
        fs::remove_dir_all(&path).unwrap();

        // A process that has ended, one that runs (this test's parent) and this one.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let alive = std::os::unix::process::parent_id();
        let own = std::process::id();
        assert!(!process_is_running(dead) && process_is_running(alive));
        for name in [
            format!("render.tmp-{dead}"),
            format!("highlight.tmp-{own}"),
            format!(".spill-{dead}"),
            format!("search.tmp-{alive}"),
            format!(".spill-{alive}"),
            "render.bin".to_string(),
            "notes.tmp-x".to_string(),
        ] {
            fs::write(dir.path().join(name), "").unwrap();
        }
        remove_stale(dir.path());
        let mut expected = vec![
            format!(".spill-{alive}"),
            "notes.tmp-x".to_string(),
            "render.bin".to_string(),
            format!("search.tmp-{alive}"),
        ];
        expected.sort();
        assert_eq!(names(dir.path()), expected);
    }
}
