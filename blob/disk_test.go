package blob

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"standing"
)

// TestMain doubles as the child process of TestDiskPutKilled.
func TestMain(m *testing.M) {
	if dir := os.Getenv("BLOB_CRASH_CHILD_DIR"); dir != "" {
		crashChild(dir, os.Getenv("BLOB_CRASH_CHILD_KEY"))
		os.Exit(3) // not reached: the parent kills the child mid-Put
	}
	os.Exit(m.Run())
}

// announcingReader reads stdin and, once a good part of the body has been handed to Put
// (and so written to its temporary file), tells the parent on stdout.
type announcingReader struct {
	r         io.Reader
	delivered int
	announced bool
}

func (a *announcingReader) Read(p []byte) (int, error) {
	if !a.announced && a.delivered >= 256<<10 {
		// Put asks for more only after writing what it had: the temp file holds it.
		fmt.Println("written")
		a.announced = true
	}
	n, err := a.r.Read(p)
	a.delivered += n
	return n, err
}

func crashChild(dir, key string) {
	d, err := NewDisk(dir)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	err = d.Put(context.Background(), key, &announcingReader{r: os.Stdin}, 50<<20, "video/mp4")
	fmt.Println("put returned:", err)
}

// TestDiskPutKilled kills -9 a process in the middle of a Put and checks that the key
// holds what it held before (nothing, or the previous object), never part of the new one.
func TestDiskPutKilled(t *testing.T) {
	for _, previous := range []string{"", "the previous photo"} {
		t.Run(fmt.Sprintf("previous=%q", previous), func(t *testing.T) {
			dir := t.TempDir()
			d, err := NewDisk(dir)
			if err != nil {
				t.Fatal(err)
			}
			const key = "evidence/apl_1/ev_1"
			if previous != "" {
				if err := d.Put(context.Background(), key, strings.NewReader(previous), int64(len(previous)), "image/jpeg"); err != nil {
					t.Fatal(err)
				}
			} else if err := d.mkdirs(filepath.Dir(d.path(key))); err != nil {
				t.Fatal(err)
			}

			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "BLOB_CRASH_CHILD_DIR="+dir, "BLOB_CRASH_CHILD_KEY="+key)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() {
				stdin.Write(bytes.Repeat([]byte("v"), 1<<20)) // 1 MiB of the 50 MiB promised
			}()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil || line != "written\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child said %q (%v), want \"written\"", line, err)
			}
			if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred cleanup runs
				t.Fatal(err)
			}
			cmd.Wait()
			stdin.Close()

			// The half-written body is there, but only under a temporary name.
			objDir := filepath.Dir(d.path(key))
			ents, err := os.ReadDir(objDir)
			if err != nil {
				t.Fatal(err)
			}
			var temps []string
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), tempPrefix) {
					fi, _ := e.Info()
					if fi.Size() < 256<<10 {
						t.Errorf("temp file %s has %d bytes; the kill came before any write", e.Name(), fi.Size())
					}
					temps = append(temps, e.Name())
				}
			}
			if len(temps) != 1 {
				t.Fatalf("temp files after the kill: %q, want one", temps)
			}

			ctx := context.Background()
			if previous == "" {
				_, err := d.Stat(ctx, key)
				if standing.ErrorCode(err) != standing.ENOTFOUND {
					t.Errorf("stat after a killed first put: %v, want not found", err)
				}
			} else {
				rc, info, err := d.Get(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(rc)
				rc.Close()
				if string(b) != previous || info.ContentType != "image/jpeg" {
					t.Errorf("after a killed overwrite the key holds %q (%s), want the previous object", b, info.ContentType)
				}
			}
			var listed []string
			d.List(ctx, "", func(i Info) error { listed = append(listed, i.Key); return nil })
			if want := map[bool]int{true: 0, false: 1}[previous == ""]; len(listed) != want {
				t.Errorf("list = %q", listed)
			}

			// Fresh temp files are left alone (an upload may be in progress); old ones go.
			if n, err := d.Sweep(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
				t.Errorf("sweep of fresh files removed %d (%v), want 0", n, err)
			}
			if n, err := d.Sweep(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
				t.Errorf("sweep removed %d (%v), want 1", n, err)
			}
			if _, err := os.Stat(filepath.Join(objDir, temps[0])); !os.IsNotExist(err) {
				t.Errorf("temp file still there after sweep: %v", err)
			}
			// The key works as before.
			if err := d.Put(ctx, key, strings.NewReader("retried"), 7, "image/png"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDiskLayout(t *testing.T) {
	d, err := NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Put(ctx, "evidence/apl_1/card.jpg", strings.NewReader("jpeg bytes"), 10, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(d.Root(), "evidence", "apl_1", "card.jpg")
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "jpeg bytes" {
		t.Fatalf("object file = %q, %v: want the bytes exactly", b, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("object file mode %v, want 0600", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Dir(path)); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", fi.Mode().Perm())
	}
	meta, err := os.ReadFile(filepath.Join(d.Root(), "evidence", "apl_1", ".card.jpg.meta"))
	if err != nil || string(meta) != `{"content_type":"image/jpeg","size":10}` {
		t.Errorf("metadata = %s, %v", meta, err)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 2 {
		t.Errorf("directory holds %d entries, want the object and its metadata", len(ents))
	}

	// Delete removes the metadata and the directories it empties, not the root.
	if err := d.Delete(ctx, "evidence/apl_1/card.jpg"); err != nil {
		t.Fatal(err)
	}
	if ents, err := os.ReadDir(d.Root()); err != nil || len(ents) != 0 {
		t.Errorf("root after deleting the only object: %v, %v", ents, err)
	}
}

func TestDiskKeyDirectoryConflict(t *testing.T) {
	d, err := NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	put := func(key string) error { return d.Put(ctx, key, strings.NewReader("x"), 1, "") }
	if err := put("a"); err != nil {
		t.Fatal(err)
	}
	if err := put("a/b"); standing.ErrorCode(err) != standing.ECONFLICT {
		t.Errorf("put a/b beside object a: %v, want conflict", err)
	}
	if err := put("x/y"); err != nil {
		t.Fatal(err)
	}
	if err := put("x"); standing.ErrorCode(err) != standing.ECONFLICT {
		t.Errorf("put x over directory x: %v, want conflict", err)
	}
	for _, key := range []string{"a", "x/y"} {
		if _, err := d.Stat(ctx, key); err != nil {
			t.Errorf("stat %s after the refused puts: %v", key, err)
		}
	}
}

// After a crash between the two renames of an overwrite, the metadata describes another
// body; the store then says it does not know the type rather than giving a wrong one.
func TestDiskMetadataMismatch(t *testing.T) {
	d, err := NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Put(ctx, "k", strings.NewReader("12345"), 5, "image/png"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(metaPath(d.path("k")), []byte(`{"content_type":"application/pdf","size":99}`), 0o600)
	if info, err := d.Stat(ctx, "k"); err != nil || info.ContentType != DefaultContentType {
		t.Errorf("stat = %+v, %v; want %s", info, err, DefaultContentType)
	}
	os.Remove(metaPath(d.path("k")))
	if info, err := d.Stat(ctx, "k"); err != nil || info.ContentType != DefaultContentType {
		t.Errorf("stat without metadata = %+v, %v; want %s", info, err, DefaultContentType)
	}
}

// Files that are not objects — metadata, temporary files, an operator's notes with a name
// no key can have, symlinks — are never listed or served.
func TestDiskIgnoresForeignFiles(t *testing.T) {
	d, err := NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Put(ctx, "p/real", strings.NewReader("x"), 1, ""); err != nil {
		t.Fatal(err)
	}
	root := d.Root()
	os.WriteFile(filepath.Join(root, "p", "notes for ops.txt"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(root, "p", tempPrefix+"123"), []byte("x"), 0o600)
	os.Mkdir(filepath.Join(root, ".git"), 0o700)
	os.WriteFile(filepath.Join(root, ".git", "config"), []byte("x"), 0o600)
	os.Symlink("/etc/passwd", filepath.Join(root, "p", "link"))
	var keys []string
	if err := d.List(ctx, "", func(i Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "p/real" {
		t.Errorf("list = %q, want only p/real", keys)
	}
	if _, _, err := d.Get(ctx, "p/link"); standing.ErrorCode(err) != standing.ENOTFOUND {
		t.Errorf("get of a symlink: %v, want not found", err)
	}
}

func TestDiskSweepOrphanMetadata(t *testing.T) {
	d, err := NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Put(ctx, "a/live", strings.NewReader("x"), 1, "text/plain"); err != nil {
		t.Fatal(err)
	}
	orphan := metaPath(d.path("a/gone"))
	os.WriteFile(orphan, []byte(`{"content_type":"text/plain","size":1}`), 0o600)
	// A metadata file named like a temporary one ("." + "tmp-x" + ".meta") is not one.
	if err := d.Put(ctx, "a/tmp-x", strings.NewReader("y"), 1, "text/csv"); err != nil {
		t.Fatal(err)
	}
	n, err := d.Sweep(ctx, time.Now().Add(time.Minute))
	if err != nil || n != 1 {
		t.Errorf("sweep removed %d (%v), want 1", n, err)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("orphan metadata still there: %v", err)
	}
	for key, ct := range map[string]string{"a/live": "text/plain", "a/tmp-x": "text/csv"} {
		if info, err := d.Stat(ctx, key); err != nil || info.ContentType != ct {
			t.Errorf("stat %s after sweep = %+v, %v", key, info, err)
		}
	}
}

func TestNewDiskOnAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	if _, err := NewDisk(f); standing.ErrorCode(err) != standing.EINVALID {
		t.Errorf("NewDisk on a file = %v, want invalid", err)
	}
	if _, err := NewDisk(""); standing.ErrorCode(err) != standing.EINVALID {
		t.Errorf("NewDisk(\"\") = %v, want invalid", err)
	}
}
