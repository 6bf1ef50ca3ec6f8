// Package frame is how events reach the screen: at most once a frame, and
// no faster than the machine can paint.
//
//   - pump.go: Pump drains a channel on its own goroutine and hands the
//     events to the views in one batch per frame, on the Fyne thread.
//   - paintclock.go: the Clock that beats the frames (AnimationClock in a
//     window, TickerClock for drivers without a paint loop).
//   - pacer.go: the Pacer spaces those frames out while the process uses
//     more CPU than its budget; cpu_unix.go and cpu_other.go read the
//     process's CPU time (ProcessCPU).
//   - mincache.go: WithMinCache measures a container's MinSize once per
//     frame.
//   - probe.go: the Probe measures how long tokens take from their arrival
//     to the frame that paints them (`tokenloom bench`).
//
// Pump and the clocks start goroutines that end with their context; the
// rest runs on the Fyne thread unless it says otherwise.
package frame
