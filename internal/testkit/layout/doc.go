// Package layout holds a test that keeps the written map of the code true:
// docs/architecture.md against `go list` (every package has its row, and
// imports of ours only what its row allows), ui/doc.go and the package
// comment of server/server.go against the files they name, and the size
// of the files in the product's rooms.
package layout
