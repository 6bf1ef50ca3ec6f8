package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// endpointEditor is the Endpoints part of Settings: the endpoints of the
// endpoints file, which Settings edits (run and serve read the same file),
// and those --endpoint set, which it only shows; each with whether it
// answered at the last look. Changes are kept until Save.
type endpointEditor struct {
	app     *App
	path    string // the endpoints file
	list    []endpoints.Endpoint
	changed bool
	err     error // reading the file

	root *fyne.Container
	rows *fyne.Container

	name, url, keyEnv *widget.Entry
	kind              *widget.Select
	problem           *widget.Label
}

func (a *App) newEndpointEditor() *endpointEditor {
	e := &endpointEditor{app: a}
	e.path, e.err = endpoints.File()
	if e.err == nil {
		e.list, e.err = endpoints.ReadFile(e.path)
	}
	title := widget.NewLabel("Endpoints")
	title.TextStyle = fyne.TextStyle{Bold: true}
	where := "Other Ollama hosts and OpenAI-compatible servers (vLLM, LM Studio, llama.cpp, LiteLLM…), beside the local Ollama. A pane picks one as model@endpoint."
	if e.err == nil {
		where += " Kept in " + e.path + ", which tokenloom run and serve read too."
	}
	note := widget.NewLabel(where)
	note.Wrapping = fyne.TextWrapWord
	note.SizeName = theme.SizeNameCaptionText
	e.rows = container.NewVBox()

	e.name = widget.NewEntry()
	e.name.SetPlaceHolder("name: gpu")
	e.kind = widget.NewSelect([]string{endpoints.KindOllama, endpoints.KindOpenAI}, nil)
	e.kind.SetSelected(endpoints.KindOllama)
	e.url = widget.NewEntry()
	e.url.SetPlaceHolder("URL: http://10.0.0.5:11434, or http://10.0.0.5:8000/v1")
	e.keyEnv = widget.NewEntry()
	e.keyEnv.SetPlaceHolder("API key variable (optional): VLLM_KEY")
	add := widget.NewButtonWithIcon("Add", theme.ContentAddIcon(), e.add)
	e.problem = widget.NewLabel("")
	e.problem.Importance = widget.DangerImportance
	e.problem.Wrapping = fyne.TextWrapWord
	e.problem.Hide()
	form := container.NewGridWithColumns(2, e.name, e.kind, e.url, e.keyEnv)
	e.root = container.NewVBox(widget.NewSeparator(), title, note, e.rows,
		container.NewBorder(nil, nil, nil, add, form), e.problem)
	e.fill()
	return e
}

// fill lists the endpoints: the file's with Remove, the flags' as such.
func (e *endpointEditor) fill() {
	e.rows.RemoveAll()
	if e.err != nil {
		l := widget.NewLabel(problem("The endpoints file cannot be read", e.err))
		l.Importance = widget.DangerImportance
		l.Wrapping = fyne.TextWrapWord
		e.rows.Add(l)
	}
	for _, ep := range e.list {
		name := ep.Name
		remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
			e.list = slices.DeleteFunc(e.list, func(x endpoints.Endpoint) bool { return x.Name == name })
			e.changed = true
			e.fill()
		})
		remove.Importance = widget.LowImportance
		if slices.Contains(e.app.opts.EndpointFlags, name) {
			remove.Disable() // --endpoint comes first
		}
		e.rows.Add(container.NewBorder(nil, nil, nil, remove, e.row(ep.Name, ep.Kind, ep.URL)))
	}
	for _, name := range e.app.opts.EndpointFlags {
		if slices.ContainsFunc(e.list, func(x endpoints.Endpoint) bool { return x.Name == name }) {
			continue
		}
		if st, ok := e.app.endpointStatus(name); ok {
			e.rows.Add(e.row(st.Name+" (from --endpoint)", st.Kind, st.URL))
		}
	}
	if len(e.rows.Objects) == 0 {
		e.rows.Add(widget.NewLabel("None yet."))
	}
	e.rows.Refresh()
}

// row is one endpoint and whether it answered at the last look.
func (e *endpointEditor) row(name, kind, url string) fyne.CanvasObject {
	l := widget.NewLabel(fmt.Sprintf("%s · %s · %s — %s", name, kind, url, e.app.endpointState(strings.TrimSuffix(name, " (from --endpoint)"))))
	l.Wrapping = fyne.TextWrapWord
	return l
}

// add checks the new endpoint and lists it.
func (e *endpointEditor) add() {
	ep := endpoints.Endpoint{Name: strings.TrimSpace(e.name.Text), Kind: e.kind.Selected, URL: strings.TrimSpace(e.url.Text), APIKeyEnv: strings.TrimSpace(e.keyEnv.Text)}
	list := append(slices.Clone(e.list), ep)
	if err := endpoints.Validate(list); err != nil {
		e.problem.SetText(problem("", err))
		e.problem.Show()
		return
	}
	e.problem.Hide()
	e.list = list
	e.changed = true
	e.name.SetText("")
	e.url.SetText("")
	e.keyEnv.SetText("")
	e.fill()
}

// save writes the file if the list changed (the embedded server takes it
// when Settings starts it again).
func (e *endpointEditor) save() error {
	if !e.changed || e.err != nil {
		return nil
	}
	return endpoints.WriteFile(e.path, e.list)
}

// endpointStatus is the last word of the server on endpoint name.
func (a *App) endpointStatus(name string) (wire.EndpointStatus, bool) {
	i := slices.IndexFunc(a.endpoints, func(s wire.EndpointStatus) bool { return s.Name == name })
	if i < 0 {
		return wire.EndpointStatus{}, false
	}
	return a.endpoints[i], true
}

// endpointState says whether endpoint name answered, with how many models.
func (a *App) endpointState(name string) string {
	st, ok := a.endpointStatus(name)
	switch {
	case !ok:
		return "not checked yet: Save checks it"
	case !st.Reachable:
		return "does not answer: " + st.Error
	}
	n := 0
	for _, m := range a.modelInfo {
		if m.Endpoint == name {
			n++
		}
	}
	return "answers, " + figures.Plural(n, "model")
}

// endpointsWords sums the endpoints up after a check: "gpu answers, 3
// models; vllm does not answer: …".
func endpointsWords(h *wire.Health) string {
	if h == nil || len(h.Endpoints) == 0 {
		return ""
	}
	parts := make([]string, len(h.Endpoints))
	for i, e := range h.Endpoints {
		if e.Reachable {
			parts[i] = e.Name + " answers"
		} else {
			parts[i] = e.Name + " does not answer: " + e.Error
		}
	}
	return " Endpoints: " + strings.Join(parts, "; ") + "."
}
