// Package widgets holds Tokenloom's reusable Fyne widgets: they know
// nothing of the app, its runs or its server, only what they show.
//
//   - tokenview.go: TokenView, the virtualised text of coloured Spans
//     (tokenwrap.go lays text out in rows, tokenrow.go draws a row,
//     scrollbar.go its scroll bar).
//   - timeline.go: Timeline, a lane per stream with a tick per token and
//     its phases shaded, over the run's clock (timelinedraw.go draws it
//     with the shading of the pictures of a run, diagram.PaintPhase, and
//     the pixels of internal/base/paint, so that the app and a saved
//     picture look alike; timelinelegend.go is its legend,
//     TimelineLegend; timelinepicture_test.go holds the two side by
//     side).
//   - foldline.go: FoldLine, a line that folds and unfolds what it sums up.
//   - flow.go: Flow, a row of objects that wraps like words.
//   - tooltip.go: TipLayer, tooltips above a window's content, and its
//     TipButton, an icon button that says what it does.
//   - theme.go: the app's theme (NewTheme) with a colour per stream slot
//     (SlotColor, SlotDimColor and their theme colour names).
//
// Use them on the Fyne thread only.
package widgets
