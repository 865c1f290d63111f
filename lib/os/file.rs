//! Small files, whole: a kernel file read in one read, a file of
//! guestkit's written so that no reader sees half of it.

use std::path::Path;

/// Writes `text` to `path` through a temporary file renamed over it, so a
/// reader never sees half of it.
pub fn write_atomically(path: &Path, text: &str) -> crate::error::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.{}", std::process::id()));
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            crate::error::Error::io("cannot write", path, e)
        })
}

/// A small kernel file's text (/proc, cgroupfs), in as few system calls
/// as it takes: open, one read, close. std's read_to_string also asks the
/// size and reads again for the end, and reads a /proc file (size 0) in six
/// growing pieces; listings and samples read several per container. The
/// kernel fills a read of these files as far as the text goes, so a short
/// read is the end (not so for a regular file on FUSE or NFS: those are
/// read with std).
pub fn read_small(p: &Path) -> Option<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(p).ok()?;
    let mut buf = vec![0; 4096];
    let mut len = 0;
    loop {
        let n = f.read(&mut buf[len..]).ok()?;
        len += n;
        if n == 0 || len < buf.len() {
            break;
        }
        buf.resize(buf.len() * 2, 0);
    }
    buf.truncate(len);
    String::from_utf8(buf).ok()
}
