package desktop

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/theme"

	"github.com/tokenloom/tokenloom/internal/testenv"
	"github.com/tokenloom/tokenloom/ui"
)

// TestRealWindow builds the binary, runs it in a real window under Xvfb on
// the demo sources with --run, and screenshots it: the window must stay up,
// show both streams' colours, keep its preferences under its app ID, and
// quit within a second of SIGTERM.
func TestRealWindow(t *testing.T) {
	testenv.Long(t, "builds the app and runs it for several seconds")
	xvfb := testenv.NeedTool(t, "xvfb-run")
	testenv.NeedTool(t, "import")

	dir := t.TempDir()
	bin := filepath.Join(dir, "tokenloom")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/tokenloom")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	home, err := os.MkdirTemp("", "tokenloom-home")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(home) })
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	nowhere := ln.Addr().String()
	ln.Close()

	shots := filepath.Join("..", "..", "build", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, size := range []string{"1280x800"} {
		t.Run(size, func(t *testing.T) {
			shot, _ := filepath.Abs(filepath.Join(shots, "demo-"+size+"-dark.png"))
			// The script runs inside the X server: start the app, wait for
			// the demo to finish, screenshot, then check it is alive and
			// time its exit after SIGTERM.
			script := fmt.Sprintf(`
"%[1]s" --run & pid=$!
sleep 6
import -window root "%[2]s"
if kill -0 $pid 2>/dev/null; then echo ALIVE; fi
start=$(date +%%s%%N)
kill -TERM $pid
wait $pid
echo EXIT=$? MS=$(( ($(date +%%s%%N) - start) / 1000000 ))
`, bin, shot)
			// xvfb-run -a races with another xvfb-run -a starting at the same
			// display (the window tests of two packages run at once): start apart.
			cmd := exec.Command(xvfb, "-a", "-n", "90", "-s", "-screen 0 "+size+"x24", "bash", "-c", script)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "HOME="+home, "LANG=en_US.UTF-8", "FYNE_THEME=dark", "OLLAMA_HOST="+nowhere)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("xvfb-run: %v\n%s", err, out.String())
			}
			log := out.String()
			if !strings.Contains(log, "ALIVE") {
				t.Fatalf("the window did not stay up:\n%s", log)
			}
			var code, ms int
			if _, err := fmt.Sscanf(log[strings.Index(log, "EXIT="):], "EXIT=%d MS=%d", &code, &ms); err != nil {
				t.Fatalf("no exit line:\n%s", log)
			}
			if ms > 1000 {
				t.Errorf("quit took %d ms after SIGTERM", ms)
			}
			counts := colorCounts(t, shot, ui.SlotColor(0, theme.VariantDark), ui.SlotColor(1, theme.VariantDark))
			t.Logf("screenshot %s: %d px of slot 0, %d px of slot 1; exit %d after %d ms", shot, counts[0], counts[1], code, ms)
			// A pane's swatch alone covers at most 14×14 px: more means its
			// text is there in its colour.
			for i, n := range counts {
				if n <= 14*14 {
					t.Errorf("slot %d's colour covers only %d px", i, n)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "fyne", AppID)); err != nil {
		t.Errorf("no preferences under the app ID: %v", err)
	}
}

// colorCounts counts the pixels of a PNG within a small distance of each
// colour.
func colorCounts(t *testing.T, path string, cs ...color.NRGBA) []int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, len(cs))
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			for i, c := range cs {
				d := abs(int(p.R)-int(c.R)) + abs(int(p.G)-int(c.G)) + abs(int(p.B)-int(c.B))
				if d <= 24 {
					counts[i]++
				}
			}
		}
	}
	return counts
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
