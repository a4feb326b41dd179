// Package browsertest drives Debian's headless Chromium from Go tests (through chromedp),
// with the flags this machine needs: no sandbox as root, a fresh profile per test, and no
// background networking (the machine's closed network refuses it). Tests that need a
// browser skip, saying why, when Chromium is missing — unless STANDING_REQUIRE_BROWSER=1
// (CI), which makes them fail instead.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path finds the Chromium binary: $CHROMIUM, /usr/bin/chromium, or chromium on PATH.
func Path() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// New starts a headless Chromium for the test and returns a chromedp context, closed when
// the test ends. Each call gets its own browser profile (its own cookies).
func New(t *testing.T) context.Context {
	t.Helper()
	path := Path()
	if path == "" {
		if os.Getenv("STANDING_REQUIRE_BROWSER") == "1" {
			t.Fatal("Chromium is required (STANDING_REQUIRE_BROWSER=1) but was not found; apt-get install chromium")
		}
		t.Skip("skipping: Chromium not found (apt-get install chromium, or set CHROMIUM)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Without /dev/shm Chromium keeps its shared memory in org.chromium.Chromium.*
		// folders under TMPDIR, which a killed browser leaves behind: they go in the
		// test's own folder, removed with it.
		chromedp.Env("TMPDIR="+t.TempDir()),
		chromedp.WindowSize(1200, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first action starts the browser; it must not run under a timeout (that would
	// stop the browser with it), so later steps get their own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// Do runs chromedp steps with a timeout and fails the test, showing the page's URL and
// text, on error.
func Do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		t.Fatalf("browser: %v\n%s", err, describe(ctx))
	}
}

func describe(ctx context.Context) string {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	url, _ := chromedp.Run(dctx, chromedp.Location())
	body, _ := chromedp.Run(dctx, chromedp.Text(chromedp.CSS("body")))
	return "at " + url + ", the page says:\n" + body
}

// Text returns the visible text of the first element matching the CSS selector.
func Text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("read %s: %v\n%s", css, err, describe(ctx))
	}
	return s
}

// Location returns the page's URL.
func Location(t *testing.T, ctx context.Context) string {
	t.Helper()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return u
}
