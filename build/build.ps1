# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
# Build the standalone server on Windows: dist\qbdi-server\qbdi-server.exe (docs/STANDALONE.md).
#
#   powershell -ExecutionPolicy Bypass -File build\build.ps1           build
#   powershell -ExecutionPolicy Bypass -File build\build.ps1 -Smoke    build, then smoke-test it
#
# Uses the Python of the active environment (or -Python C:\path\to\python.exe); installs
# PyInstaller there if missing. Same spec, same work folder (build\work, git-ignored) as build.sh.
param(
    [switch]$Smoke,
    [switch]$SmokeOnly,
    [string]$Python = "python",
    [string]$Dist = "dist",
    [string]$Work = "build\work"
)
# Native commands are checked through $LASTEXITCODE (Invoke-Checked): with "Stop", Windows
# PowerShell 5.1 would turn any line PyInstaller writes to stderr into a terminating error.
$ErrorActionPreference = "Continue"
Set-Location (Split-Path -Parent $PSScriptRoot)

function Invoke-Checked {
    param([string]$Exe, [string[]]$Arguments)
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

$binary = Join-Path $Dist "qbdi-server\qbdi-server.exe"
if (-not $SmokeOnly) {
    & $Python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('PyInstaller') is None)"
    if ($LASTEXITCODE -ne 0) {
        Write-Host "build.ps1: installing PyInstaller (the [build] extra)"
        Invoke-Checked $Python @("-m", "pip", "install", "-q", "pyinstaller>=6.0")
    }
    $started = Get-Date
    Invoke-Checked $Python @("-m", "PyInstaller", "build\qbdi-server.spec", "--distpath", $Dist,
                             "--workpath", $Work, "--noconfirm", "--clean", "--log-level", "WARN")
    $mb = (Get-ChildItem -Recurse -File (Join-Path $Dist "qbdi-server") | Measure-Object -Sum Length).Sum / 1MB
    Write-Host ("build.ps1: built {0} in {1:N0} s ({2:N1} MiB)" -f $binary, ((Get-Date) - $started).TotalSeconds, $mb)
}
if ($Smoke -or $SmokeOnly) {
    Invoke-Checked $Python @("build\smoke.py", $binary)
}
