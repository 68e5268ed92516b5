#!/bin/sh
# maillon-probe, shell fallback: for a live system without Python 3.
# Collects the raw outputs (lshw, dmidecode, smartctl, upower, /sys, /proc) into a tar and sends it
# by HTTP PUT to the station's upload URL; the node reads them exactly as the Python probe's, and
# answers in plain text, one line per message. Exit status: 0 recorded, 1 refused, 2 node unreachable.
#   wget -qO- http://NODE:8470/station/probe.sh | sudo sh -s http://NODE:8470/upload/probe/STATION/TOKEN [--item TAG]
# Part of Maillon, free software (AGPL-3.0-or-later).
set -u
# MAILLON:TRANSLATIONS (the node puts the page's language here; %s is a value)
T_reading='Reading the description of this computer…'
T_skipped='%s is not installed: skipped.'
T_not_root='Not run as root (sudo): serial numbers and disk health may be missing.'
T_sending='Sending %s outputs to the node…'
T_unreachable='The node cannot be reached (%s). Check the address, and that this computer is on the workshop'"'"'s network.'
T_no_sender='Neither curl nor wget is installed: the outputs cannot be sent.'
T_usage='Give the station'"'"'s upload URL (shown on the node'"'"'s Workshop station page).'
T_language=''
# MAILLON:END
say() { eval "format=\$T_$1"; shift; printf "$format\n" "$@" >&2; }

url="${1:-}"
[ -n "$url" ] || { say usage; exit 64; }
shift
item=""
while [ $# -gt 0 ]; do
  case "$1" in
    --item) shift; item="${1:-}"; [ $# -gt 0 ] && shift ;;
    --item=*) item="${1#--item=}"; shift ;;
    *) item="$1"; shift ;;  # the asset tag alone, as the first versions took it
  esac
done
dir="$(mktemp -d)" || exit 1
trap 'rm -rf "$dir" "$dir.tar" "$dir.answer"' EXIT
export LC_ALL=C
have() { command -v "$1" >/dev/null 2>&1; }
say reading
[ "$(id -u)" = 0 ] || say not_root
for tool in lshw dmidecode smartctl; do have "$tool" || say skipped "$tool"; done
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
  for field in sys_vendor product_name product_version product_serial chassis_type board_vendor board_name \
      board_serial chassis_serial; do
    [ -r "/sys/class/dmi/id/$field" ] && echo "$field=$(cat "/sys/class/dmi/id/$field" 2>/dev/null)"
  done > "$dir/dmi-id.txt"
fi
cat /proc/meminfo > "$dir/meminfo.txt" 2>/dev/null
cat /proc/cpuinfo > "$dir/cpuinfo.txt" 2>/dev/null
for edid in /sys/class/drm/*/edid; do
  [ -s "$edid" ] || continue
  connector="${edid%/edid}"
  cat "$edid" > "$dir/edid-${connector##*/}.bin"
done
find "$dir" -type f -size 0 -exec rm -f {} +
say sending "$(ls "$dir" | wc -l | tr -d ' ')"
printf '{"probe": "maillon-probe.sh", "version": 1, "item": "%s"}\n' "$(printf '%s' "$item" | tr -cd 'A-Za-z0-9_-')" > "$dir/probe.json"
tar -cf "$dir.tar" -C "$dir" . || exit 1
language="${T_language:-${LANG:-fr}}"
if have curl; then
  status="$(curl -sS -o "$dir.answer" -w '%{http_code}' -T "$dir.tar" -H 'Content-Type: application/x-tar' \
    -H 'Accept: text/plain' -H "Accept-Language: ${language%%[._@]*}" "$url")"
  code=$?
  [ "$code" = 0 ] || { say unreachable "curl $code"; exit 2; }
  cat "$dir.answer"
  [ "$status" = 200 ] || exit 1
elif have wget; then
  # --content-on-error: a refusal's reasons are printed too; wget then ends with 8 (the server answered an error)
  wget -qO- --content-on-error --method=PUT --body-file="$dir.tar" --header='Content-Type: application/x-tar' \
    --header='Accept: text/plain' --header="Accept-Language: ${language%%[._@]*}" "$url"
  code=$?
  [ "$code" = 0 ] || [ "$code" = 8 ] || { say unreachable "wget $code"; exit 2; }
  [ "$code" = 0 ] || exit 1
else
  say no_sender; exit 2
fi
