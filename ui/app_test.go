package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"
)

// TestNewWithFyneDo builds the app as the desktop does (no Do: fyne.Do,
// the frame counter and the pacer running) and closes it. Its goroutines
// start with the app's context in place (the race detector watches).
func TestNewWithFyneDo(t *testing.T) {
	emb := startServer(t, "")
	defer emb.Close()
	for range 3 {
		a := New(test.NewTempApp(t), Options{Client: emb.Client})
		a.Close()
	}
}
