// The wide-character ncurses API, with small accessors for what Swift cannot import:
// attribute macros, globals that Swift 6 rejects as not concurrency-safe, and key macros.
#ifndef SLUICE_CNCURSES_SHIM_H
#define SLUICE_CNCURSES_SHIM_H

// SwiftPM drops pkg-config's -D_XOPEN_SOURCE=600; without this cchar_t, setcchar,
// mvadd_wch and get_wch are not declared.
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif

#include <locale.h>
#include <stdio.h>
#include <wchar.h>
#include <ncurses.h>

static inline WINDOW *sluice_stdscr(void) { return stdscr; }
static inline int sluice_lines(void) { return LINES; }
static inline int sluice_cols(void) { return COLS; }
static inline int sluice_colors(void) { return COLORS; }
static inline int sluice_color_pairs(void) { return COLOR_PAIRS; }
static inline FILE *sluice_stderr(void) { return stderr; }

static inline attr_t sluice_a_normal(void) { return A_NORMAL; }
static inline attr_t sluice_a_bold(void) { return A_BOLD; }
static inline attr_t sluice_a_dim(void) { return A_DIM; }
static inline attr_t sluice_a_reverse(void) { return A_REVERSE; }
static inline attr_t sluice_a_underline(void) { return A_UNDERLINE; }

static inline int sluice_key_f(int n) { return KEY_F(n); }

// Mouse wheel reporting (the masks are macros Swift cannot import).
static inline void sluice_enable_wheel(void) {
    mousemask(BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
}

// After KEY_MOUSE: -1 for wheel up, +1 for wheel down, 0 for anything else.
static inline int sluice_read_wheel(void) {
    MEVENT event;
    if (getmouse(&event) != OK) return 0;
    if (event.bstate & BUTTON4_PRESSED) return -1;
#ifdef BUTTON5_PRESSED
    if (event.bstate & BUTTON5_PRESSED) return 1;
#endif
    return 0;
}

// Opens the terminal without initscr's exit(1) on an unknown TERM: NULL when it fails.
static inline SCREEN *sluice_newterm(void) { return newterm(NULL, stdout, stdin); }

// True when the terminal can move its cursor anywhere (terminfo `cup`): a dashboard needs
// it. `TERM=dumb` and hard-copy types cannot; ncurses would draw them one garbled line.
static inline int sluice_can_address_cursor(void) {
    char *cup = tigetstr("cup");
    return cup != NULL && cup != (char *)-1;
}

// Sets one cell: a wide-character string (one grapheme) with attributes and a colour pair.
static inline int sluice_put_cell(int y, int x, const wchar_t *text, attr_t attrs, short pair) {
    cchar_t cell;
    if (setcchar(&cell, text, attrs, pair, NULL) != OK) return ERR;
    return mvadd_wch(y, x, &cell);
}

// Reads one key or character with the current timeout: returns ERR, OK (a character in *out)
// or KEY_CODE_YES (a function key in *out).
static inline int sluice_get_wch(int *out) {
    wint_t ch = 0;
    int rc = get_wch(&ch);
    *out = (int)ch;
    return rc;
}

#endif
