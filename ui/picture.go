package ui

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
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
				a.say("Could not read the run: " + err.Error())
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
		if err := firstError(werr, herr); err != nil {
			dialog.ShowError(err, a.win)
			return
		}
		a.choosePictureFile(pic(dark.Checked), base, what, format.Selected == picturePNG, w, h)
	}, a.win)
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// pictureSize reads a width or height in pixels.
func pictureSize(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < pictureMin || n > pictureMax {
		return 0, fmt.Errorf("a picture's width and height are whole pixels from %d to %d, not %q", pictureMin, pictureMax, s)
	}
	return n, nil
}

// choosePictureFile asks where to save d and writes it there.
func (a *App) choosePictureFile(d diagram.Picture, base, what string, png bool, w, h int) {
	ext := ".svg"
	if png {
		ext = ".png"
	}
	fd := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil || wc == nil {
			return
		}
		path := wc.URI().Path()
		_ = wc.Close()
		if err := diagram.Save(d, path, w, h); err != nil {
			dialog.ShowError(err, a.win)
			return
		}
		a.say(fmt.Sprintf("Saved the %s as a %d×%d picture: %s", what, w, h, path))
	}, a.win)
	fd.SetFileName(base + "-" + time.Now().Format("2006-01-02-150405") + ext)
	fd.SetFilter(storage.NewExtensionFileFilter([]string{".svg", ".png"}))
	a.fileDialogSize(fd)
	fd.Show()
}
