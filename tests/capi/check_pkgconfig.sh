#!/usr/bin/env bash
# The generated tenure.pc gives a static link everything libtenure.a needs: the backends' client
# libraries (Requires.private) and the C++ runtime (Libs.private).
set -euo pipefail
pc_dir=$1
shift
libs=$(PKG_CONFIG_PATH=$pc_dir pkg-config --static --libs tenure)
ok=1
for want in -ltenure -lstdc++ "$@"; do
  case " $libs " in *" $want "*) ;; *) echo "pkg-config --static --libs tenure lacks $want: $libs"; ok=0 ;; esac
done
if [ $ok = 1 ]; then echo "static libs: $libs"; echo "1 passed, 0 failed"; exit 0; fi
echo "0 passed, 1 failed"; exit 1
