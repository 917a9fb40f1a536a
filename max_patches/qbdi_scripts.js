// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi_scripts.js -- the one list of what qbdi ships from max_patches/, read by everything that
 * loads, installs, generates or releases those files:
 *   qbdi_device.js     loads DEVICE_MODULES in this order, each checked for the names it needs
 *                      (require() where Max has it, include() otherwise; Diagnose's "scripts" line)
 *   qbdi_install.js    copies SCRIPTS, PATCHERS and HELP into the qbdi Max package
 *   build_patches.py   every [js] and [node.script] it writes must name a file of SCRIPTS;
 *                      `build_patches.py --list` prints SHIPPED, one file a line
 *   build/build.sh     (and build.ps1) copy `--list` into the release folder
 *   tests              tests/max_patches/test_patches.py: every max_patches/*.js is listed, and
 *                      every listed file exists
 * A new script is added here, once. The object below is plain JSON (double quotes, no trailing
 * commas, no comments inside) so that Python reads it too.
 *
 * ES5 (Max 8's [js]): loaded with require("qbdi_scripts") or include("qbdi_scripts.js").
 */

var qbdiScripts = {
    "SCRIPTS": ["qbdi_scripts.js", "qbdi_device.js", "qbdi_protocol.js", "qbdi_exchange.js", "qbdi_live.js", "qbdi_diagnose.js",
                "qbdi_play.js", "qbdi_schedule.js", "qbdi.client.js", "qbdi_launcher.js", "qbdi_install.js",
                "qbdi_osc.js"],
    "PATCHERS": ["qbdi.client.maxpat"],
    "HELP": ["qbdi.client.maxhelp"],
    "DEVICES": ["QBDI Improviser.amxd"],
    "DEVICE_MODULES": [
        {"name": "qbdi_protocol", "global": "qbdi", "needs": ["Settings", "parseReply", "PROTOCOL_VERSION"]},
        {"name": "qbdi_exchange", "global": "qbdiExchange", "needs": ["attach"]},
        {"name": "qbdi_live", "global": "qbdiLive", "needs": ["make"]},
        {"name": "qbdi_diagnose", "global": "qbdiDiagnose", "needs": ["start"]},
        {"name": "qbdi_play", "global": "qbdiPlay", "needs": ["create"]},
        {"name": "qbdi_schedule", "global": "qbdiSchedule", "needs": ["Scheduler"]}
    ]
};

// Export for Max's CommonJS-style require() and Node; under include() the global `qbdiScripts` is used.
if (typeof exports === "object" && exports !== null) {
    (function () {
        for (var key in qbdiScripts) {
            if (qbdiScripts.hasOwnProperty(key)) { exports[key] = qbdiScripts[key]; }
        }
    }());
}
