#!/bin/sh
# Like the official nginx image's 20-envsubst-on-templates.sh: every /etc/nginx/templates/X.template
# becomes /etc/nginx/conf.d/X, with only the DEFINED environment variables substituted (nginx's own
# $variables stay).
set -e
if [ "$1" = nginx ] && [ -d /etc/nginx/templates ]; then
  defined=$(printf '${%s} ' $(env | cut -d= -f1 | grep -E '^[A-Za-z_][A-Za-z0-9_]*$'))
  for template in /etc/nginx/templates/*.template; do
    [ -f "$template" ] || continue
    out=/etc/nginx/conf.d/$(basename "$template" .template)
    envsubst "$defined" <"$template" >"$out"
  done
fi
exec "$@"
