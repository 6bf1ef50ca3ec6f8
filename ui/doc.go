// Package ui is Tokenloom's desktop app: Fyne widgets and windows only. It
// talks to the embedded server through package client and never uses
// net/http itself.
package ui
