package blob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"standing"
)

// Disk is a Store in a local directory.
//
// # Layout
//
// The key "a/b/photo.jpg" is the file <root>/a/b/photo.jpg holding exactly the object's
// bytes, so the tree can be inspected, backed up or synced to S3 with ordinary tools. Its
// content type lives beside it in the metadata file <root>/a/b/.photo.jpg.meta, a small
// JSON object {"content_type": "...", "size": N}. Temporary files are named
// <dir>/..tmp-<random>. No key segment may start with '.', so neither can be mistaken for
// an object; List and Get never show them.
//
// # Crash safety
//
// Put writes the body to a temporary file in the key's own directory and fsyncs it, writes
// the metadata the same way, renames the metadata and then the body over their final
// names, and fsyncs the directory (directories it had to create are fsynced into their
// parents too). rename(2) within a directory is atomic, so after a crash at any point
// (kill -9, power loss) a key holds either its previous object or the new one in full,
// never a prefix of it; the only debris is ..tmp-* files, which Sweep removes. A Put that
// has returned nil survives a crash. Within one process the two renames of a key are
// serialised with its readers, so Get and Stat always see a body with its own content
// type. A crash between the two renames of an overwrite can leave the new content type
// beside the old body; the metadata records the body's size, and where it does not match
// the store reports DefaultContentType rather than a wrong type.
//
// # Limits
//
// A key cannot be both an object and a directory of other keys ("a" and "a/b"): S3 allows
// that, a file system does not. Put refuses the second with ECONFLICT. Use keys of one
// shape (evidence/<appeal>/<file>) and this never arises.
//
// Files are created with mode 0600 and directories with 0700: evidence is personal data.
// Delete removes directories it leaves empty.
type Disk struct {
	root  string
	locks [64]sync.Mutex
}

var _ Store = (*Disk)(nil)

// NewDisk returns a Disk rooted at dir, creating the directory if it does not exist.
func NewDisk(dir string) (*Disk, error) {
	if dir == "" {
		return nil, standing.FieldErrorf(standing.EINVALID, "url", "The blob directory is empty.")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: directory %q: %w", dir, err)
	}
	st, err := os.Stat(abs)
	switch {
	case err == nil && !st.IsDir():
		return nil, standing.FieldErrorf(standing.EINVALID, "url", "The blob directory %q is not a directory.", abs)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("blob: directory: %w", err)
	case err != nil:
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return nil, fmt.Errorf("blob: create directory: %w", err)
		}
	}
	return &Disk{root: abs}, nil
}

// String describes the store: file:// and its directory.
func (d *Disk) String() string { return "file://" + d.root }

// Root returns the absolute path of the store's directory.
func (d *Disk) Root() string { return d.root }

type diskMeta struct {
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// tempPrefix begins temporary files. It starts with two dots: a metadata file is "." and
// a key segment, which never starts with '.', so the two can never be confused.
const tempPrefix = "..tmp-"

func (d *Disk) path(key string) string { return filepath.Join(d.root, filepath.FromSlash(key)) }

func metaPath(path string) string {
	dir, name := filepath.Split(path)
	return filepath.Join(dir, "."+name+".meta")
}

func (d *Disk) lock(key string) func() {
	h := fnv.New32a()
	h.Write([]byte(key))
	m := &d.locks[h.Sum32()%uint32(len(d.locks))]
	m.Lock()
	return m.Unlock
}

// Put stores the object; see Store.Put and the crash-safety notes on Disk.
func (d *Disk) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	contentType, err := checkPut(key, size, contentType)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	path := d.path(key)
	dir := filepath.Dir(path)

	var temps []string
	defer func() {
		for _, t := range temps {
			os.Remove(t)
		}
	}()
	data, err := d.createTemp(dir)
	if err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			return conflict(key)
		}
		return wrapf(err, "put", key)
	}
	temps = append(temps, data.Name())
	n, err := io.Copy(data, io.LimitReader(ctxReader{ctx, r}, size+1))
	if err != nil {
		data.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return wrapf(err, "put", key)
	}
	if n < size {
		data.Close()
		return shortBody(size, n)
	}
	if n > size {
		data.Close()
		return longBody(size)
	}
	if err := data.Sync(); err != nil {
		data.Close()
		return wrapf(err, "put", key)
	}
	if err := data.Close(); err != nil {
		return wrapf(err, "put", key)
	}

	mb, err := json.Marshal(diskMeta{ContentType: contentType, Size: size})
	if err != nil {
		return wrapf(err, "put", key)
	}
	// The directory holds our data temp file, so no Delete can remove it under us now.
	meta, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return wrapf(err, "put", key)
	}
	temps = append(temps, meta.Name())
	if _, err := meta.Write(mb); err != nil {
		meta.Close()
		return wrapf(err, "put", key)
	}
	if err := meta.Sync(); err != nil {
		meta.Close()
		return wrapf(err, "put", key)
	}
	if err := meta.Close(); err != nil {
		return wrapf(err, "put", key)
	}

	unlock := d.lock(key)
	if st, err := os.Lstat(path); err == nil && st.IsDir() {
		unlock()
		return conflict(key)
	}
	// Metadata first: the key becomes visible only with the second rename, complete.
	if err := os.Rename(meta.Name(), metaPath(path)); err != nil {
		unlock()
		return wrapf(err, "put", key)
	}
	if err := os.Rename(data.Name(), path); err != nil {
		unlock()
		if errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return conflict(key)
		}
		return wrapf(err, "put", key)
	}
	unlock()
	temps = nil
	if err := syncDir(dir); err != nil {
		return wrapf(err, "put", key)
	}
	return nil
}

func conflict(key string) error {
	return standing.FieldErrorf(standing.ECONFLICT, "key", "The key %q clashes with another key: on disk a key cannot also be a directory of keys.", key)
}

// createTemp creates the directories up to dir and a temporary file in it. A concurrent
// Delete may remove a directory it emptied between the two steps; then it tries again.
func (d *Disk) createTemp(dir string) (*os.File, error) {
	var err error
	for range 16 {
		if err = d.mkdirs(dir); err != nil {
			return nil, err
		}
		var f *os.File
		f, err = os.CreateTemp(dir, tempPrefix+"*")
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return nil, err
}

// mkdirs creates dir (inside the root) and any missing parents, fsyncing each new
// directory's parent so the new entry survives a crash.
func (d *Disk) mkdirs(dir string) error {
	rel, err := filepath.Rel(d.root, dir)
	if err != nil || rel == "." {
		return err
	}
	cur := d.root
	for _, seg := range strings.Split(rel, string(filepath.Separator)) {
		next := filepath.Join(cur, seg)
		err := os.Mkdir(next, 0o700)
		switch {
		case err == nil:
			if err := syncDir(cur); err != nil {
				return err
			}
		case errors.Is(err, fs.ErrExist):
			st, err := os.Lstat(next)
			if err != nil {
				return err
			}
			if !st.IsDir() {
				return &fs.PathError{Op: "mkdir", Path: next, Err: syscall.ENOTDIR}
			}
		default:
			return err
		}
		cur = next
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readMeta returns the content type recorded for the body at path of the given size.
func readMeta(path string, size int64) string {
	b, err := os.ReadFile(metaPath(path))
	if err != nil {
		return DefaultContentType
	}
	var m diskMeta
	if json.Unmarshal(b, &m) != nil || m.Size != size || m.ContentType == "" {
		return DefaultContentType
	}
	return m.ContentType
}

func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Get opens the object; see Store.Get. The reader is an *os.File, which an HTTP handler
// can also seek.
func (d *Disk) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Info{}, err
	}
	return d.open(ctx, key)
}

// GetRange opens part of the object; see Store.GetRange.
func (d *Disk) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, Info, error) {
	if err := checkRange(key, offset); err != nil {
		return nil, Info{}, err
	}
	f, info, err := d.open(ctx, key)
	if err != nil {
		return nil, Info{}, err
	}
	if offset >= info.Size {
		f.Close()
		return http.NoBody, info, nil
	}
	if length < 0 || length > info.Size-offset {
		length = info.Size - offset
	}
	return sectionCloser{io.NewSectionReader(f, offset, length), f}, info, nil
}

type sectionCloser struct {
	*io.SectionReader
	f *os.File
}

func (s sectionCloser) Close() error { return s.f.Close() }

func (d *Disk) open(ctx context.Context, key string) (*os.File, Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	path := d.path(key)
	unlock := d.lock(key)
	defer unlock()
	if st, err := os.Lstat(path); err != nil {
		if missing(err) {
			return nil, Info{}, notFound(key)
		}
		return nil, Info{}, wrapf(err, "get", key)
	} else if !st.Mode().IsRegular() {
		return nil, Info{}, notFound(key)
	}
	f, err := os.Open(path)
	if err != nil {
		if missing(err) {
			return nil, Info{}, notFound(key)
		}
		return nil, Info{}, wrapf(err, "get", key)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, wrapf(err, "get", key)
	}
	return f, Info{Key: key, Size: st.Size(), ContentType: readMeta(path, st.Size()), ModTime: st.ModTime()}, nil
}

// Stat describes the object; see Store.Stat.
func (d *Disk) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	path := d.path(key)
	unlock := d.lock(key)
	defer unlock()
	st, err := os.Lstat(path)
	if err != nil {
		if missing(err) {
			return Info{}, notFound(key)
		}
		return Info{}, wrapf(err, "stat", key)
	}
	if !st.Mode().IsRegular() {
		return Info{}, notFound(key)
	}
	return Info{Key: key, Size: st.Size(), ContentType: readMeta(path, st.Size()), ModTime: st.ModTime()}, nil
}

// Delete removes the object and then any directories it leaves empty; deleting a missing
// key returns nil. See Store.Delete.
func (d *Disk) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	path := d.path(key)
	dir := filepath.Dir(path)
	unlock := d.lock(key)
	st, err := os.Lstat(path)
	switch {
	case err == nil && st.IsDir():
		unlock()
		return nil // a directory of other keys, not an object
	case err == nil:
		if err := os.Remove(path); err != nil && !missing(err) {
			unlock()
			return wrapf(err, "delete", key)
		}
	case !missing(err):
		unlock()
		return wrapf(err, "delete", key)
	}
	if err := os.Remove(metaPath(path)); err != nil && !missing(err) {
		unlock()
		return wrapf(err, "delete", key)
	}
	unlock()
	if err := syncDir(dir); err != nil {
		if missing(err) {
			return nil
		}
		return wrapf(err, "delete", key)
	}
	d.removeEmpty(dir)
	return nil
}

// removeEmpty removes dir and its parents up to the root while they are empty. rmdir
// fails on a directory that is not empty, so this cannot remove anything a concurrent Put
// has started writing into.
func (d *Disk) removeEmpty(dir string) {
	for dir != d.root && strings.HasPrefix(dir, d.root+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		parent := filepath.Dir(dir)
		syncDir(parent)
		dir = parent
	}
}

// List calls fn for each object under prefix in key order; see Store.List.
func (d *Disk) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	base := prefix[:strings.LastIndex(prefix, "/")+1] // "" or "a/b/"
	return d.walk(ctx, base, prefix, fn)
}

type dirEntry struct {
	sortName string // the name, with "/" appended for a directory: key order
	entry    fs.DirEntry
}

// walk lists the directory holding keys that start with dirKey ("" or ending in "/").
// Entries are visited in the order of the keys they hold: a directory "a" sorts as "a/",
// so "a-b" comes before it and "ab" after it, as in byte-wise key order.
func (d *Disk) walk(ctx context.Context, dirKey, prefix string, fn func(Info) error) error {
	des, err := os.ReadDir(filepath.Join(d.root, filepath.FromSlash(dirKey)))
	if err != nil {
		if missing(err) {
			return nil
		}
		return fmt.Errorf("blob: list %q: %w", prefix, err)
	}
	ents := make([]dirEntry, 0, len(des))
	for _, de := range des {
		name := de.Name()
		if ValidateKey(name) != nil { // hidden (metadata, temp) or not ours
			continue
		}
		sortName := name
		if de.IsDir() {
			sortName += "/"
		}
		ents = append(ents, dirEntry{sortName, de})
	}
	slices.SortFunc(ents, func(a, b dirEntry) int { return strings.Compare(a.sortName, b.sortName) })
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		key := dirKey + e.sortName
		if e.entry.IsDir() {
			if strings.HasPrefix(key, prefix) || strings.HasPrefix(prefix, key) {
				if err := d.walk(ctx, key, prefix, fn); err != nil {
					return err
				}
			}
			continue
		}
		if !strings.HasPrefix(key, prefix) || !e.entry.Type().IsRegular() {
			continue
		}
		fi, err := e.entry.Info()
		if err != nil {
			if missing(err) {
				continue // deleted since ReadDir
			}
			return fmt.Errorf("blob: list %q: %w", prefix, err)
		}
		if err := fn(Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}

// Sweep removes what crashes leave behind: temporary files last modified before before
// (pass a time well before now, say an hour ago, so that uploads in progress in this or
// another process are not touched) and metadata files older than that whose object is
// gone. It returns how many files it removed. It is safe to run while the store is in use.
func (d *Disk) Sweep(ctx context.Context, before time.Time) (int, error) {
	removed := 0
	err := filepath.WalkDir(d.root, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			if missing(err) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if de.IsDir() || !strings.HasPrefix(de.Name(), ".") {
			return nil
		}
		fi, err := de.Info()
		if err != nil || !fi.ModTime().Before(before) {
			return nil
		}
		name := de.Name()
		switch {
		case strings.HasPrefix(name, tempPrefix):
			if err := os.Remove(path); err == nil {
				removed++
			}
		case strings.HasSuffix(name, ".meta"):
			obj := filepath.Join(filepath.Dir(path), strings.TrimSuffix(name[1:], ".meta"))
			rel, err := filepath.Rel(d.root, obj)
			if err != nil {
				return nil
			}
			key := filepath.ToSlash(rel)
			if ValidateKey(key) != nil {
				return nil
			}
			unlock := d.lock(key)
			if _, err := os.Lstat(obj); missing(err) {
				if os.Remove(path) == nil {
					removed++
				}
			}
			unlock()
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("blob: sweep: %w", err)
	}
	return removed, nil
}
