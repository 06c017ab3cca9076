"""End to end: a real Neovim (headless, the distribution's package; .ci/run installs it)
drives `coursecheck lsp` through diagnostics, the safe fix on a Cyrillic line, go to
definition and a rename. Skipped where Neovim or pygls is not installed.

Neovim 0.7 hands diagnostics back to the server in byte columns; the fix must still
replace exactly the homoglyph (the edit comes from the server, not from that range)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lsp_course import IMAGES_REL, INTRO_REL, write_course

pytest.importorskip("pygls")
NVIM = shutil.which("nvim")
pytestmark = pytest.mark.skipif(NVIM is None, reason="Neovim is not installed (apt-get install neovim)")

SCRIPT = r"""
local root, python, out = ROOT, PYTHON, OUT
local result = {}
local t0 = vim.loop.hrtime()
local function mark(name) result['t_' .. name] = (vim.loop.hrtime() - t0) / 1e9 end
local function finish() local f = io.open(out, 'w'); f:write(vim.fn.json_encode(result)); f:close(); vim.cmd('qa!') end
local ok, err = pcall(function()
  local id = vim.lsp.start_client({
    cmd = { python, '-m', 'coursecheck', 'lsp' }, root_dir = root, name = 'coursecheck',
    init_options = { debounce = 50 },
  })
  result.client = id ~= nil
  vim.api.nvim_create_autocmd('BufEnter', { pattern = { '*.md', '*.mdx' }, callback = function(a)
    if not vim.lsp.buf_is_attached(a.buf, id) then vim.lsp.buf_attach_client(a.buf, id) end end })
  vim.cmd('edit ' .. root .. '/' .. INTRO)
  vim.lsp.buf_attach_client(0, id)
  vim.wait(60000, function() return #vim.diagnostic.get(0) > 0 end, 50)
  mark('diagnostics')
  result.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    table.insert(result.diagnostics, { code = d.user_data and d.user_data.lsp and d.user_data.lsp.code or d.code, lnum = d.lnum, col = d.col })
  end
  -- the safe fix of the homoglyph, asked for as :lua vim.lsp.buf.code_action() would
  local line = vim.api.nvim_buf_get_lines(0, 7, 8, false)[1]
  local byte = line:find('Dоcker', 1, true)
  vim.api.nvim_win_set_cursor(0, { 8, byte + 1 })
  local params = vim.lsp.util.make_range_params()
  params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics() }
  local replies = vim.lsp.buf_request_sync(0, "textDocument/codeAction", params, 30000) or {}
  local client = vim.lsp.get_client_by_id(id)
  for _, reply in pairs(replies) do
    for _, action in ipairs(reply.result or {}) do
      if action.title:find('(bilingual/mixed-script, safe fix)', 1, true) then
        vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
        result.fixed = true
      end
    end
  end
  mark('fix')
  result.line = vim.api.nvim_buf_get_lines(0, 7, 8, false)[1]
  -- go to definition from the link to the images lesson
  vim.api.nvim_win_set_cursor(0, { 10, 30 })
  vim.lsp.buf.definition()
  vim.wait(30000, function() return vim.api.nvim_buf_get_name(0):find('02%-images') ~= nil end, 50)
  mark('definition')
  result.definition = vim.api.nvim_buf_get_name(0)
  result.definition_line = vim.api.nvim_win_get_cursor(0)[1]
  -- rename the intro lesson through the images lesson's prerequisite
  vim.wait(30000, function() return vim.lsp.buf_is_attached(0, id) end, 50)
  vim.api.nvim_win_set_cursor(0, { 5, 6 })
  vim.lsp.buf.rename('basics/01-welcome')
  vim.wait(30000, function() return vim.loop.fs_stat(root .. '/content/01-basics/01-welcome.md') ~= nil end, 50)
  mark('rename')
  vim.cmd('silent! wall')
  result.renamed = vim.loop.fs_stat(root .. '/content/01-basics/01-welcome.md') ~= nil
  result.old_gone = vim.loop.fs_stat(root .. '/' .. INTRO) == nil
end)
if not ok then result.error = tostring(err) end
finish()
"""


def test_neovim_drives_the_server(tmp_path: Path) -> None:
    root = write_course(tmp_path / "course")
    out = tmp_path / "result.json"
    script = tmp_path / "drive.lua"
    values = {"ROOT": str(root), "PYTHON": sys.executable, "OUT": str(out), "INTRO": INTRO_REL}
    text = SCRIPT
    for name, value in values.items():
        text = text.replace(name, json.dumps(value), 1) if name != "INTRO" else text.replace(name, json.dumps(value))
    script.write_text(text, encoding="utf-8")
    assert NVIM is not None
    subprocess.run(
        [NVIM, "--headless", "--clean", "-n", "-c", f"luafile {script}"],
        cwd=root,
        timeout=240,
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result.get("error") is None, result
    homoglyph = [d for d in result["diagnostics"] if d["code"] == "bilingual/mixed-script"]
    assert homoglyph and homoglyph[0]["lnum"] == 7
    assert result["fixed"] is True
    assert result["line"] == (
        "Контейнер (container) запускается из образа (image). Сначала поставьте Docker на машину."
    )  # the Latin o in place of the Cyrillic one, every Cyrillic word intact
    assert result["definition"].endswith(IMAGES_REL) and result["definition_line"] == 2
    assert result["renamed"] and result["old_gone"]
    images = (root / IMAGES_REL).read_text(encoding="utf-8")
    assert "  - basics/01-welcome\n" in images
    assert "(./01-welcome.md#введение)" in images
