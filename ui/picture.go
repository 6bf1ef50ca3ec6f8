package ui

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/services/diagram"
)

// Picture formats offered.
const (
	pictureSVG = "SVG (scales, for slides and the web)"
	picturePNG = "PNG (an image of the size below)"
)

// Picture sizes: the default, and the range taken.
const (
	pictureWidth, pictureHeight = 1600, 900
	pictureMin, pictureMax      = 320, 4000
)

// saveTimelinePicture saves the current run's timeline as a picture.
func (a *App) saveTimelinePicture() {
	if a.runID == "" || a.running {
		a.say("Run first: the picture is of a run that has ended.")
		return
	}
	id, slots := a.runID, slices.Clone(a.views.slots) // the views may change before the answer
	a.background(func(ctx context.Context, cl *client.Client) func() {
		t, err := cl.Run(ctx, id)
		return func() {
			if err != nil {
				a.sayProblem("Could not read the run", err)
				return
			}
			d := diagram.OfRun(t, slots)
			a.showSavePicture(func(dark bool) diagram.Picture { d.Dark = dark; return d }, "tokenloom-timeline", "timeline")
		}
	})
}

// showSavePicture asks for a format and a size, then a file, and saves
// the picture pic draws on the background asked (dark or not), of what
// ("timeline", "sweep"), under a name that begins with base.
func (a *App) showSavePicture(pic func(dark bool) diagram.Picture, base, what string) {
	format := widget.NewRadioGroup([]string{pictureSVG, picturePNG}, nil)
	format.Required = true
	format.SetSelected(pictureSVG)
	width, height := widget.NewEntry(), widget.NewEntry()
	width.SetText(strconv.Itoa(pictureWidth))
	height.SetText(strconv.Itoa(pictureHeight))
	dark := widget.NewCheck("Dark background", nil)
	dark.SetChecked(a.variant() == theme.VariantDark)
	form := widget.NewForm(
		widget.NewFormItem("Format", format),
		widget.NewFormItem("Width", width),
		widget.NewFormItem("Height", height),
		widget.NewFormItem("", dark),
	)
	dialog.ShowCustomConfirm("Save the "+what+" as a picture", "Choose a file…", "Cancel", form, func(ok bool) {
		if !ok {
			return
		}
		w, werr := pictureSize(width.Text)
		h, herr := pictureSize(height.Text)
		if err := cmp.Or(werr, herr); err != nil {
			a.sayProblem("Could not save the "+what, err)
			return
		}
		ext := ".svg"
		if format.Selected == picturePNG {
			ext = ".png"
		}
		a.askSave(pictureFile(pic(dark.Checked), base+"-"+time.Now().Format("2006-01-02-150405")+ext, what, w, h))
	}, a.win)
}

// pictureSize reads a width or height in pixels.
func pictureSize(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < pictureMin || n > pictureMax {
		return 0, fmt.Errorf("a picture's width and height are whole pixels from %d to %d, not %q", pictureMin, pictureMax, s)
	}
	return n, nil
}

// pictureFile is saving picture d of what ("timeline") at w×h pixels, as
// SVG or PNG by the extension of the file's name; name is the name offered.
func pictureFile(d diagram.Picture, name, what string, w, h int) fileSave {
	return fileSave{
		what: "the " + what,
		name: name,
		exts: []string{".svg", ".png"},
		write: func(_ context.Context, _ *client.Client, path string) error {
			return diagram.Save(d, path, w, h)
		},
		saved: func(path string) string { return fmt.Sprintf("Saved the %s as a %d×%d picture: %s", what, w, h, path) },
	}
}
