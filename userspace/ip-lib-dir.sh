#!/bin/sh
# Print the directory where the installed ip(8) looks for link_<kind>.so.
# iproute2 compiles it in as LIBDIR "/ip"; read it back from the binary, so
# the answer matches how this system's ip was configured.
ip=$(command -v ip || echo /sbin/ip)
dir=$(LC_ALL=C grep -aoE '/[[:alnum:]_./-]*lib[[:alnum:]_./-]*/ip' "$ip" \
	2>/dev/null | grep -v '/ip/' | head -n1)
if [ -z "$dir" ]; then
	multiarch=$(${CC:-cc} -print-multiarch 2>/dev/null)
	dir=/usr/lib${multiarch:+/$multiarch}/ip
fi
echo "$dir"
