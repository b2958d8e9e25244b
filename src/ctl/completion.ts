/**
 * `keyupctl completion`: one script for bash and for zsh (through zsh's bashcompinit), printed to
 * be sourced. Profile names come from the credentials file's section headers, read by the shell
 * itself: asking keyupd on every Tab would be slow and need it running.
 */
export const COMPLETION_SCRIPT = String.raw`# keyupctl completion for bash and zsh.
# Use it now:  source <(keyupctl completion)
# Keep it:     add that line to ~/.bashrc or ~/.zshrc
if [ -n "$ZSH_VERSION" ]; then
  # zsh runs bash completions through bashcompinit, which needs its own completion system loaded.
  if ! type compdef >/dev/null 2>&1; then autoload -U +X compinit && compinit; fi
  autoload -U +X bashcompinit && bashcompinit
fi

_keyupctl_profiles() {
  local file="@{AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}"
  [ -r "$file" ] && sed -n 's/^[[:space:]]*\[\([^]]*\)\].*/\1/p' "$file"
}

_keyupctl() {
  local cur prev command word i
  cur="@{COMP_WORDS[COMP_CWORD]}"
  prev=""
  if [ "$COMP_CWORD" -gt 0 ]; then prev="@{COMP_WORDS[COMP_CWORD-1]}"; fi
  command=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="@{COMP_WORDS[i]}"
    case "$word" in
      --socket|--timeout|--profile|--mfa-code) ((i++)) ;;
      -*) ;;
      *) command="$word"; break ;;
    esac
  done
  local global="--socket --timeout --no-color --debug --help --version"

  case "$prev" in
    --socket) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    --timeout|--mfa-code) COMPREPLY=(); return 0 ;;
    --profile) COMPREPLY=($(compgen -W "$(_keyupctl_profiles)" -- "$cur")); return 0 ;;
  esac

  case "$command" in
    "") COMPREPLY=($(compgen -W "status rotate keys config reload install uninstall completion help $global" -- "$cur")) ;;
    status|config) COMPREPLY=($(compgen -W "--json $global" -- "$cur")) ;;
    rotate)
      if [[ " @{COMP_WORDS[*]} " == *" now "* ]]; then
        COMPREPLY=($(compgen -W "--profile --force --mfa-code $global" -- "$cur"))
      else
        COMPREPLY=($(compgen -W "now" -- "$cur"))
      fi ;;
    keys) COMPREPLY=($(compgen -W "--profile --json $global" -- "$cur")) ;;
    install) COMPREPLY=($(compgen -W "--dry-run $global" -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    help) COMPREPLY=($(compgen -W "status rotate keys config reload install uninstall completion" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -W "$global" -- "$cur")) ;;
  esac
  return 0
}

complete -F _keyupctl keyupctl
`
  // `@{` stands for the shell's `${`, which a template literal would take for its own.
  .replaceAll('@{', '${');
