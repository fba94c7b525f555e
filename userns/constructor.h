#ifndef SKIFF_USERNS_CONSTRUCTOR_H
#define SKIFF_USERNS_CONSTRUCTOR_H

/* What the constructor did, for Go: 1 joined the pause namespaces, 0 did
 * not try or gave up before changing anything, -1 gave up half way (inside
 * the user namespace but not its mount namespace, or without uid 0). */
int skiff_userns_joined(void);

/* Why the fast path was not taken ("" when it was). */
const char *skiff_userns_why(void);

#endif
