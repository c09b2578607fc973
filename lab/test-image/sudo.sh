#!/bin/sh
# shellcheck shell=sh
#
# sudo for the test image (lab/test-image.ts): everything runs as root already, so "sudo CMD..."
# runs CMD. Tempest writes root's commands with sudo, as CirrOS's user needs them. An option is
# refused: nothing here would honour it.
case "${1-}" in
-*)
	echo "sudo: options are not supported here: $1" >&2
	exit 1
	;;
"")
	echo "usage: sudo COMMAND [ARG...]" >&2
	exit 1
	;;
esac
exec "$@"
