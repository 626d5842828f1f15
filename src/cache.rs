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
//! File format: a header line (`header`), then records of key (u64 LE), length (u32 LE)
//! and the bytes (UTF-8 text for the first two). A file with another header is ignored; a truncated one (a build
//! killed while appending) is read up to its last whole record.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Where a cached entry is.
enum Place {
    /// In `files[file]`, at `offset`, `len` bytes.
    File {
        file: usize,
        offset: u64,
        len: u32,
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

/// Identifies the cache format, what it holds and what produced its entries (`producer`).
fn header(kind: &str, producer: &str) -> String {
    format!("tminus-{kind}-cache 3 {producer}\n")
}

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
            Place::Memory(bytes) => bytes.to_vec(),
            Place::File { file, offset, len } => read_at(&mut files[*file], *offset, *len).ok()?,
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
        let Ok(records) = index(&file, &header(self.kind, producer)) else {
            return;
        };
        state.files.push(file);
        let file = state.files.len() - 1;
        state.loaded = Some(Loaded {
            file,
            path: path.to_path_buf(),
            records: records.len(),
            bytes: records.iter().map(|r| u64::from(r.2)).sum(),
        });
        for (key, offset, len) in records {
            state.entries.entry(key).or_insert(Entry {
                place: Place::File { file, offset, len },
                used: false,
            });
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
        let same_file = loaded.as_ref().filter(|l| l.path == path && path.exists());
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
            let new_bytes: u64 = keys.iter().map(|k| entries[k].len() + 12).sum();
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
        let mut out = BufWriter::new(File::create(&tmp)?);
        out.write_all(header(self.kind, producer).as_bytes())?;
        let mut keys: Vec<u64> = entries
            .iter()
            .filter(|(_, e)| e.used)
            .map(|(k, _)| *k)
            .collect();
        keys.sort_unstable();
        write_records(&mut out, files, entries, &keys)?;
        out.into_inner().map_err(|e| e.into_error())?;
        fs::rename(tmp, path)
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

/// Writes the records of `keys` (key, length, text).
fn write_records(
    out: &mut impl Write,
    files: &mut [File],
    entries: &HashMap<u64, Entry>,
    keys: &[u64],
) -> io::Result<()> {
    for key in keys {
        let bytes = match &entries[key].place {
            Place::Memory(bytes) => bytes.to_vec(),
            Place::File { file, offset, len } => read_at(&mut files[*file], *offset, *len)?,
        };
        out.write_all(&key.to_le_bytes())?;
        out.write_all(&(bytes.len() as u32).to_le_bytes())?;
        out.write_all(&bytes)?;
    }
    Ok(())
}

/// The records of a cache file: `(key, offset of the HTML, length)`.
fn index(file: &File, header: &str) -> io::Result<Vec<(u64, u64, u32)>> {
    let size = file.metadata()?.len();
    let mut reader = BufReader::new(file);
    let mut first = Vec::new();
    reader.read_until(b'\n', &mut first)?;
    if first != header.as_bytes() {
        return Ok(Vec::new());
    }
    let mut records = Vec::new();
    let mut at = first.len() as u64;
    let mut head = [0u8; 12];
    while at + 12 <= size && reader.read_exact(&mut head).is_ok() {
        let key = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
        let len = u32::from_le_bytes(head[8..].try_into().expect("4 bytes"));
        at += 12;
        if at + u64::from(len) > size {
            break;
        }
        records.push((key, at, len));
        reader.seek_relative(i64::from(len))?;
        at += u64::from(len);
    }
    Ok(records)
}

fn read_at(file: &mut File, offset: u64, len: u32) -> io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = vec![0; len as usize];
    file.read_exact(&mut bytes)?;
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

/// Saves the caches to `dir`: what this build made or reused (see [`Cache::save`]).
pub fn save_all(dir: &Path) -> io::Result<()> {
    for (cache, file, producer) in all() {
        cache.save(&dir.join(file), &producer)?;
    }
    Ok(())
}

/// Each cache, its file and what makes its entries stale: the tminus version and syntect
/// (in the highlight producer, which the others include), and each format's number, bumped
/// when what it caches changes.
fn all() -> [(&'static Cache, &'static str, String); 3] {
    let highlight = crate::markdown::highlight::cache_producer();
    [
        (highlighted(), "highlight.bin", highlight.clone()),
        (rendered(), "render.bin", format!("render-2 {highlight}")),
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
        assert_eq!(fs::metadata(&path).unwrap().len(), size + 12 + 3);
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
            header("render", "p").len() as u64 + 4 * (12 + 100)
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
}
