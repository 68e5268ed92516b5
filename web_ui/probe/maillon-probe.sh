#!/bin/sh
# maillon-probe, shell fallback: for a live system without Python 3.
# Collects the raw outputs (lshw, dmidecode, smartctl, upower, /sys, /proc) into a tar and sends it
# by HTTP PUT to the station's upload URL; the node reads them exactly as the Python probe's.
#   wget -qO- http://NODE:8470/station/probe.sh | sudo sh -s http://NODE:8470/upload/probe/STATION/TOKEN [TAG]
# Part of Maillon, free software (AGPL-3.0-or-later).
set -u
url="${1:?give the station upload URL}"
item="${2:-}"
dir="$(mktemp -d)" || exit 1
trap 'rm -rf "$dir" "$dir.tar"' EXIT
export LC_ALL=C
have() { command -v "$1" >/dev/null 2>&1; }
have lshw && lshw -json -quiet > "$dir/lshw.json" 2>/dev/null
have dmidecode && dmidecode > "$dir/dmidecode.txt" 2>/dev/null
have lsblk && lsblk -J -b -d -o NAME,TYPE,SIZE,MODEL,SERIAL,ROTA,TRAN,RM > "$dir/lsblk.json" 2>/dev/null
if have smartctl; then
  for block in /sys/block/sd* /sys/block/nvme*n* /sys/block/mmcblk* /sys/block/vd*; do
    [ -e "$block" ] || continue
    name="${block##*/}"
    [ "$(cat "$block/removable" 2>/dev/null)" = "1" ] && continue
    case "$(readlink -f "$block")" in */usb*) continue ;; esac
    smartctl --json -a "/dev/$name" > "$dir/smartctl-$name.json" 2>/dev/null
  done
fi
if have upower; then
  for device in $(upower -e | grep -i battery); do upower -i "$device"; done > "$dir/upower.txt" 2>/dev/null
fi
for supply in /sys/class/power_supply/*; do
  [ -r "$supply/uevent" ] && cat "$supply/uevent" > "$dir/power_supply-${supply##*/}.uevent"
done
if [ -d /sys/class/dmi/id ]; then
  for field in sys_vendor product_name product_version product_serial chassis_type board_vendor board_name; do
    [ -r "/sys/class/dmi/id/$field" ] && echo "$field=$(cat "/sys/class/dmi/id/$field")"
  done > "$dir/dmi-id.txt"
fi
cat /proc/meminfo > "$dir/meminfo.txt" 2>/dev/null
cat /proc/cpuinfo > "$dir/cpuinfo.txt" 2>/dev/null
for edid in /sys/class/drm/*/edid; do
  [ -s "$edid" ] || continue
  connector="${edid%/edid}"
  cat "$edid" > "$dir/edid-${connector##*/}.bin"
done
printf '{"probe": "maillon-probe.sh", "version": 1, "item": "%s"}\n' "$(printf '%s' "$item" | tr -cd 'A-Za-z0-9_-')" > "$dir/probe.json"
find "$dir" -type f -size 0 -exec rm -f {} +
tar -cf "$dir.tar" -C "$dir" . || exit 1
if have curl; then
  curl -fsS -T "$dir.tar" -H 'Content-Type: application/x-tar' "$url"
elif have wget; then
  wget -qO- --method=PUT --body-file="$dir.tar" --header='Content-Type: application/x-tar' "$url"
else
  echo "neither curl nor wget: cannot send" >&2; exit 1
fi
echo
