package ui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// PaneConfig is what a pane asks for; it is saved in the preferences.
type PaneConfig struct {
	Model string `json:"model"`
	// Endpoint names the configured endpoint that serves Model; empty:
	// the local Ollama or a demo source.
	Endpoint    string   `json:"endpoint,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	Seed        *int64   `json:"seed,omitempty"`
	MaxTokens   *int     `json:"max_tokens,omitempty"`
	// Rate paces the demo sources demo/flood and demo/echo, in tokens per
	// second; 0 is as fast as possible.
	Rate *float64 `json:"rate,omitempty"`
	// Think asks a thinking model to reason first or not (or how hard);
	// nil sends nothing: the model's default. Only models whose
	// capabilities say they think are asked.
	Think *wire.Think `json:"think,omitempty"`
}

// labeled puts a caption above an option's entry.
func labeled(name string, o fyne.CanvasObject) fyne.CanvasObject {
	l := widget.NewLabel(name)
	l.SizeName = theme.SizeNameCaptionText
	return container.NewVBox(l, o)
}

// numberEntry is an option's entry: empty for the model's default.
func numberEntry(value string, changed func()) *widget.Entry {
	e := widget.NewEntry()
	e.PlaceHolder = "default"
	e.SetText(value)
	e.OnChanged = func(string) { changed() }
	return e
}

func fmtFloat(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

func fmtInt64(v *int64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(*v, 10)
}

func fmtInt(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}

// config reads the pane's settings; err names a field that is not a number,
// or says why the model chosen names no model (endpoints.ParseModelRef:
// the model is then kept as chosen).
func (p *Pane) config() (PaneConfig, error) {
	cfg := PaneConfig{Think: p.thinkChoice()}
	var modelErr error
	if chosen := p.model.Selected; chosen != "" {
		ref, err := endpoints.ParseModelRef(chosen)
		if err != nil {
			ref, modelErr = endpoints.ModelRef{Model: chosen}, fmt.Errorf("model %w", err)
		}
		cfg.Model, cfg.Endpoint = ref.Model, ref.Endpoint
	}
	if s := strings.TrimSpace(p.temp.Text); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return cfg, fmt.Errorf("temperature %q is not a number", s)
		}
		cfg.Temperature = &v
	}
	if s := strings.TrimSpace(p.seed.Text); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return cfg, fmt.Errorf("seed %q is not a whole number", s)
		}
		cfg.Seed = &v
	}
	if s := strings.TrimSpace(p.maxTok.Text); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			return cfg, fmt.Errorf("max tokens %q is not a whole number", s)
		}
		cfg.MaxTokens = &v
	}
	if s := strings.TrimSpace(p.rate.Text); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return cfg, fmt.Errorf("demo pace %q is not a number", s)
		}
		cfg.Rate = &v
	}
	return cfg, modelErr
}

// spec is the stream the pane asks for.
func (cfg PaneConfig) spec() wire.StreamSpec {
	s := wire.StreamSpec{Model: cfg.Model, Endpoint: cfg.Endpoint}
	if cfg.Temperature != nil || cfg.Seed != nil || cfg.MaxTokens != nil || cfg.Rate != nil || cfg.Think != nil {
		s.Options = &wire.Options{Temperature: cfg.Temperature, Seed: cfg.Seed, NumPredict: cfg.MaxTokens, Rate: cfg.Rate, Think: cfg.Think}
	}
	return s
}

// optionsSummary names the options set, or the one that is not a number.
func (p *Pane) optionsSummary() []string {
	cfg, err := p.config()
	if err != nil {
		return []string{problem("", err)}
	}
	var out []string
	if v := cfg.Temperature; v != nil {
		out = append(out, "temperature "+fmtFloat(v))
	}
	if v := cfg.Seed; v != nil {
		out = append(out, "seed "+fmtInt64(v))
	}
	if v := cfg.MaxTokens; v != nil {
		out = append(out, "at most "+figures.Plural(*v, "token"))
	}
	if v := cfg.Rate; v != nil {
		out = append(out, "pace "+fmtFloat(v)+" tokens/s")
	}
	if v := cfg.Think; v != nil {
		out = append(out, "think "+thinkLabel(v))
	}
	return out
}
