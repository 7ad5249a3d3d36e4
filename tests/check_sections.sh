#!/bin/sh
# grok.h's sections: the tags the CONTENTS block lists must open a banner "/* ==== >>tag: ..."
# exactly once in the declarations and once in the implementation, in the CONTENTS order in
# both halves, and no other banner may use that style. Prints one line per problem and exits 1
# if there is any. Usage: sh tests/check_sections.sh [grok.h]
h=${1:-grok.h}
awk 'BEGIN { half = 0 }
/^   CONTENTS/ { in_contents = 1; next }
in_contents && /^   [A-Z]/ { in_contents = 0 }
in_contents && match($0, /^       >>[a-z]+ /) { tag = substr($0, 10, RLENGTH - 10); order[++n] = tag; known[tag] = 1; next }
/^#ifdef GROK_IMPLEMENTATION$/ { half = 1 }
/^\/\* ==== >>/ {
    t = $0; sub(/^\/\* ==== >>/, "", t); sub(/:.*/, "", t)
    if (!(t in known)) { print "banner >>" t " (line " NR ") is not in CONTENTS"; bad = 1; next }
    seen[half, t]++; pos[half, t] = ++count[half]; list[half, count[half]] = t
}
END {
    if (n == 0) { print "no section tags in CONTENTS"; exit 1 }
    for (h = 0; h <= 1; h++) {
        name = h ? "implementation" : "declarations"
        for (i = 1; i <= n; i++)
            if (seen[h, order[i]] != 1) { print ">>" order[i] ": " seen[h, order[i]] + 0 " banners in the " name; bad = 1 }
        for (i = 1; i <= count[h] && i <= n; i++)
            if (list[h, i] != order[i]) { print name ": section " i " is >>" list[h, i] ", CONTENTS says >>" order[i]; bad = 1; break }
    }
    if (!bad) print "sections: " n " tags in CONTENTS order in the declarations and the implementation"
    exit bad
}' "$h"
