# Sourced by scripts/test-windows and scripts/wine-runner: the headless Wine
# environment and the one-time prefix initialisation. Expects $root (the repo).

if [ -z "${WINE:-}" ]; then
    if command -v wine >/dev/null 2>&1; then
        WINE=wine
    elif [ -x /usr/lib/wine/wine64 ]; then
        WINE=/usr/lib/wine/wine64
    else
        echo "wine not found (apt-get install wine wine64)" >&2
        exit 2
    fi
fi
export WINE
if [ -z "${WINESERVER:-}" ]; then
    if command -v wineserver >/dev/null 2>&1; then
        WINESERVER=wineserver
    else
        WINESERVER=/usr/lib/wine/wineserver
    fi
fi
export WINESERVER
export WINEPREFIX=${WINEPREFIX:-$root/target/windows/wineprefix}
export WINEDEBUG=${WINEDEBUG:--all}
# No Mono/Gecko install prompts, no desktop menu entries.
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=;winemenubuilder.exe=d}
# Headless on every machine, whether or not a display happens to be around.
unset DISPLAY WAYLAND_DISPLAY

# Creates the prefix once (wineboot -i, then waits for wineserver to write the
# registry). Serialised with flock when available; marked done by a file.
wine_prefix_init() {
    local marker=$WINEPREFIX/.bits-helper-token-ready
    [ -f "$marker" ] && return 0
    mkdir -p "$WINEPREFIX"
    (
        if command -v flock >/dev/null 2>&1; then flock 9; fi
        [ -f "$marker" ] && exit 0
        local t0 log=$WINEPREFIX/../wineboot.log
        t0=$(date +%s)
        echo "initialising Wine prefix $WINEPREFIX (wineboot -i)" >&2
        if ! "$WINE" wineboot -i </dev/null >"$log" 2>&1 || ! "$WINESERVER" -w; then
            cat "$log" >&2
            echo "wineboot -i failed" >&2
            exit 1
        fi
        touch "$marker"
        echo "wineboot took $(( $(date +%s) - t0 ))s" >&2
    ) 9>"$WINEPREFIX.lock"
}
