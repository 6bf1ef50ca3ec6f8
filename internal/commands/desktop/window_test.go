package desktop

import (
	"fmt"
	"image"
	"image/color"
	_ "image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

// quitBound bounds how long the app takes to quit after SIGTERM. It
// promises a second (the streams are cancelled at once, then the window and
// the embedded server close); the bound is thrice that, generous for a
// loaded machine.
const quitBound = 3 * time.Second

// TestRealWindow builds the binary, runs it in a real window under Xvfb on
// the demo sources with --run, and screenshots it once the demo has ended:
// the window must stay up, show both streams' colours, keep its
// preferences under its app ID, and quit within about a second of SIGTERM.
func TestRealWindow(t *testing.T) {
	testenv.Long(t, "builds the app and runs it for several seconds")
	xvfb := testenv.NeedTool(t, "xvfb-run")
	testenv.NeedTool(t, "import")

	dir := t.TempDir()
	bin := filepath.Join(dir, "tokenloom")
	build := exec.Command("go", "build", "-o", bin, "../../../cmd/tokenloom")
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

	shots := filepath.Join("..", "..", "..", "build", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	slots := []color.NRGBA{widgets.SlotColor(0, theme.VariantDark), widgets.SlotColor(1, theme.VariantDark)}
	// The default primary colour, as the app in a fresh home has it.
	test.NewTempApp(t)
	primary := color.NRGBAModel.Convert(theme.DefaultTheme().Color(theme.ColorNamePrimary, theme.VariantDark)).(color.NRGBA)
	for _, size := range []string{"1280x800"} {
		t.Run(size, func(t *testing.T) {
			shot, _ := filepath.Abs(filepath.Join(shots, "demo-"+size+"-dark.png"))
			// The script runs inside the X server: start the app and take
			// screenshots, numbered, until the go-ahead file appears; then
			// check the app is alive and time its exit after SIGTERM.
			frames := t.TempDir()
			goAhead := filepath.Join(t.TempDir(), "go")
			script := `
"$TOKENLOOM" --run & pid=$!
i=0
while [ ! -e "$GO_AHEAD" ] && kill -0 $pid 2>/dev/null; do
	import -window root "$FRAMES/next.png" && mv "$FRAMES/next.png" "$FRAMES/$i.png" && i=$((i+1))
	sleep 0.2
done
if kill -0 $pid 2>/dev/null; then echo ALIVE; fi
start=$(date +%s%N)
kill -TERM $pid
wait $pid
echo EXIT=$? MS=$(( ($(date +%s%N) - start) / 1000000 ))
`
			// xvfb-run -a races with another xvfb-run -a starting at the same
			// display (the window tests of two packages run at once): start apart.
			cmd := exec.Command(xvfb, "-a", "-n", "90", "-s", "-screen 0 "+size+"x24", "bash", "-c", script)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "HOME="+home, "LANG=en_US.UTF-8", "FYNE_THEME=dark", "OLLAMA_HOST="+nowhere,
				"TOKENLOOM="+bin, "GO_AHEAD="+goAhead, "FRAMES="+frames)
			var out testenv.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()

			// The demo has ended once a screenshot shows both streams' text
			// in their colours and the Run button enabled again.
			counts := waitForEndedDemo(t, frames, shot, slots, primary, exited, &out)
			if err := os.WriteFile(goAhead, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := <-exited; err != nil {
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
			t.Logf("screenshot %s: %d px of slot 0, %d px of slot 1; exit %d after %d ms", shot, counts[0], counts[1], code, ms)
			if took := time.Duration(ms) * time.Millisecond; took > quitBound {
				t.Errorf("quit took %v after SIGTERM, want about a second (bound %v)", took, quitBound)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "fyne", AppID)); err != nil {
		t.Errorf("no preferences under the app ID: %v", err)
	}
}

// waitForEndedDemo reads the numbered screenshots in frames as the script
// takes them, until one shows the demo ended: more than a pane's swatch
// (14×14 px) of each slot colour, which means its text is there in its
// colour, and the Run button enabled again, which it is only once the run
// has ended. It copies that screenshot to shot and returns its counts of
// the slot colours. It fails the test if the app exits first, or if no
// screenshot shows that within testenv.Patience.
func waitForEndedDemo(t *testing.T, frames, shot string, slots []color.NRGBA, primary color.NRGBA, exited <-chan error, out *testenv.Buffer) []int {
	t.Helper()
	deadline := time.After(testenv.Patience)
	var counts []int
	for next := 0; ; {
		path := filepath.Join(frames, strconv.Itoa(next)+".png")
		if _, err := os.Stat(path); err == nil {
			next++
			img := decodePNG(t, path)
			counts = colorCounts(img, slots...)
			if counts[0] > 14*14 && counts[1] > 14*14 && hasButtonFace(img, primary) {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(shot, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return counts
			}
			continue
		}
		select {
		case err := <-exited:
			t.Fatalf("the app ended (%v) before a screenshot showed the demo ended; the last of %d showed %v px of the slot colours:\n%s", err, next, counts, out.String())
		case <-deadline:
			t.Fatalf("no screenshot showed the demo ended within %v; the last of %d showed %v px of the slot colours", testenv.Patience, next, counts)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// hasButtonFace reports whether img has a face of colour c at least 40 px
// wide in 12 rows: an enabled button of high importance. Nothing else in
// the window has one; the underline of the selected tab, the widest other
// thing in the primary colour, is 2 rows tall.
func hasButtonFace(img image.Image, c color.NRGBA) bool {
	rows := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		run := 0
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA), c) {
				if run++; run == 40 {
					rows++
					break
				}
			} else {
				run = 0
			}
		}
	}
	return rows >= 12
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// colorCounts counts the pixels of an image within a small distance of
// each colour.
func colorCounts(img image.Image, cs ...color.NRGBA) []int {
	counts := make([]int, len(cs))
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			for i, c := range cs {
				if near(p, c) {
					counts[i]++
				}
			}
		}
	}
	return counts
}

// near reports whether two colours are within a small distance.
func near(p, c color.NRGBA) bool {
	return abs(int(p.R)-int(c.R))+abs(int(p.G)-int(c.G))+abs(int(p.B)-int(c.B)) <= 24
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
