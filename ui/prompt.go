package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// promptEntry is the multi-line prompt: Ctrl+Enter runs, Esc stops.
type promptEntry struct {
	widget.Entry
	onRun, onStop func()
	// window runs the window's own shortcuts, which a focused entry
	// would keep from it, and reports whether s was one.
	window func(s fyne.Shortcut) bool
}

func newPromptEntry(onRun, onStop func()) *promptEntry {
	e := &promptEntry{onRun: onRun, onStop: onStop}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.ExtendBaseWidget(e)
	return e
}

// AcceptsTab is false: Tab moves the focus on, as in every other field,
// instead of typing an invisible character into the prompt.
func (e *promptEntry) AcceptsTab() bool { return false }

// TypedShortcut runs on Ctrl+Enter (Cmd+Enter on macOS).
func (e *promptEntry) TypedShortcut(s fyne.Shortcut) {
	if cs, ok := s.(*desktop.CustomShortcut); ok && (cs.KeyName == fyne.KeyReturn || cs.KeyName == fyne.KeyEnter) &&
		(cs.Modifier == fyne.KeyModifierControl || cs.Modifier == fyne.KeyModifierSuper) {
		e.onRun()
		return
	}
	if e.window != nil && e.window(s) {
		return
	}
	e.Entry.TypedShortcut(s)
}

// TypedKey stops on Esc.
func (e *promptEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape {
		e.onStop()
		return
	}
	e.Entry.TypedKey(k)
}

// textEntry is a multi-line entry that leaves Tab to move the focus, and
// the window's own shortcuts to the window.
type textEntry struct {
	widget.Entry
	window func(s fyne.Shortcut) bool
}

// TypedShortcut gives the window its own shortcuts.
func (e *textEntry) TypedShortcut(s fyne.Shortcut) {
	if e.window != nil && e.window(s) {
		return
	}
	e.Entry.TypedShortcut(s)
}

func newTextEntry() *textEntry {
	e := &textEntry{}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.ExtendBaseWidget(e)
	return e
}

// AcceptsTab is false: Tab moves the focus on.
func (e *textEntry) AcceptsTab() bool { return false }
