package frame

import (
	"image"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Probe measures how long tokens take to reach the screen: from their
// arrival at the client (client.Event.Received) to the frame that first
// paints them. `tokenloom bench` uses it.
//
// The window gets a transparent one-pixel raster in its corner, refreshed
// with every batch of tokens the views take. Fyne regenerates a refreshed
// raster's image while it paints the next frame, so the raster's generator
// runs in the very frame that shows those tokens; it stamps them with the
// time. The probe also stamps the first frame painted after the model list
// is loaded, when the window is ready to run.
type Probe struct {
	raster *canvas.Raster

	mu       sync.Mutex
	waiting  []Sample    // applied to the views, not painted yet
	arrived  []time.Time // when each of waiting arrived at the client
	counts   map[int]int // tokens per stream index of the current run
	samples  []Sample
	frames   int  // frames that painted tokens
	ready    bool // the model list is loaded; the next frame is the first ready one
	ended    bool // a run has ended; the next frame paints its last tokens
	onReady  func(time.Time)
	onRunEnd func()
}

// Sample is one token's way to the screen.
type Sample struct {
	// Stream is the stream's index in its run, Token the token's index in
	// its stream, from 0.
	Stream, Token int
	// Latency is from the token's arrival at the client to the frame that
	// painted it.
	Latency time.Duration
}

// NewProbe makes a probe. onReady, if not nil, is called once with the time
// of the first frame painted after the window is ready to run; onRunEnd, if
// not nil, when the frame with the last tokens of a run has been painted.
// Both are called on the Fyne thread.
func NewProbe(onReady func(painted time.Time), onRunEnd func()) *Probe {
	p := &Probe{counts: map[int]int{}, onReady: onReady, onRunEnd: onRunEnd}
	p.raster = canvas.NewRaster(p.frame)
	return p
}

// Samples returns the tokens painted so far, in the order they were painted.
func (p *Probe) Samples() []Sample {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Sample(nil), p.samples...)
}

// Frames returns how many frames painted tokens.
func (p *Probe) Frames() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frames
}

// Object is the raster to place in the window, at the top left corner. It
// is sized here, with the app running: a resize refreshes.
func (p *Probe) Object() fyne.CanvasObject {
	p.raster.Resize(fyne.NewSize(1, 1))
	return p.raster
}

// frame is the raster's generator: Fyne calls it while painting a frame
// after the raster was refreshed.
func (p *Probe) frame(w, h int) image.Image {
	now := time.Now()
	p.mu.Lock()
	for i, s := range p.waiting {
		s.Latency = now.Sub(p.arrived[i])
		p.samples = append(p.samples, s)
	}
	if len(p.waiting) > 0 {
		p.frames++
	}
	p.waiting, p.arrived = p.waiting[:0], p.arrived[:0]
	ready, ended := p.ready, p.ended
	p.ready, p.ended = false, false
	p.mu.Unlock()
	if ready && p.onReady != nil {
		p.onReady(now)
		p.onReady = nil
	}
	if ended && p.onRunEnd != nil {
		p.onRunEnd()
	}
	return image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
}

// RunStarted starts counting tokens of a new run.
func (p *Probe) RunStarted() {
	p.mu.Lock()
	clear(p.counts)
	p.mu.Unlock()
}

// Applied notes the tokens of a batch that the views have just taken.
func (p *Probe) Applied(batch []client.IndexedEvent) {
	p.mu.Lock()
	n := 0
	for _, ev := range batch {
		if ev.Type != wire.EventToken {
			continue
		}
		p.waiting = append(p.waiting, Sample{Stream: ev.Index, Token: p.counts[ev.Index]})
		p.arrived = append(p.arrived, ev.Received)
		p.counts[ev.Index]++
		n++
	}
	p.mu.Unlock()
	if n > 0 {
		p.raster.Refresh()
	}
}

// Loaded notes that the window is ready to run.
func (p *Probe) Loaded() {
	p.mu.Lock()
	p.ready = true
	p.mu.Unlock()
	p.raster.Refresh()
}

// RunEnded notes that a run has ended; onRunEnd follows with the next frame.
func (p *Probe) RunEnded() {
	p.mu.Lock()
	p.ended = true
	p.mu.Unlock()
	p.raster.Refresh()
}
