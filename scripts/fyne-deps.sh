#!/usr/bin/env bash
# Prints the Debian packages needed to build (and run) a Fyne app.
echo gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
	libxinerama-dev libxi-dev libxxf86vm-dev libgl1-mesa-dri fonts-dejavu-core
