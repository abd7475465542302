/*
 * The victim's offline hashing page: her pictures are read and hashed here, on her device,
 * by the same C kernel as the CLI (kernel.wasm) into hashes and local features (ORB
 * keypoints); only the hash file leaves, when she saves it. No network request of any kind
 * (the page's Content-Security-Policy forbids them).
 * Schema of the hash file: docs/hash-file.md (mirrors rempart/intake/hashfile.py).
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("rempart-config").textContent);
  var FORMAT = "rempart-hash-file";
  var CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  var MAX_PIXELS = 100000000;
  var WORK = 512; // windows.py _SMOOTH_SIDE
  var SMOOTH = 64; // windows.py _SMOOTH_SIZE
  var CROP_SPAN = 20.0, CROP_STEPS = 7, BORDER_MARGINS = [3.5, 6.5];
  var SQUARE_SLACK = 0.03;
  var GRIDS = [6, 8, 11, 16], COARSE = 64; // mosaic.py's GRIDS and _RENDER_SIDE
  var FEATURES = 500, WINDOW_FEATURES = 200; // features.py's MAX_FEATURES and WINDOW_LIMIT
  var WINDOW_SHARE = 2 / 3, WINDOW_STEPS = 3; // features.py's WINDOW_SHARE and _WINDOW_STEPS
  var lang = /^fr\b/i.test(navigator.language || "") ? "fr" : "en";
  var kernel = null;
  var state = { files: [], items: [], problems: [], code: "", submission: "", saved: null };

  function $(id) { return document.getElementById(id); }

  function t(key, values) {
    var text = (config.messages[lang] && config.messages[lang][key]) || config.messages.en[key] || key;
    return text.replace(/\{(\w+)\}/g, function (_, name) {
      return values && name in values ? String(values[name]) : "{" + name + "}";
    });
  }

  function applyTexts() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-t]").forEach(function (el) {
      el.textContent = t(el.getAttribute("data-t"));
    });
    document.title = t("title");
    $("language").textContent = lang === "fr" ? "English" : "Français";
    $("language").setAttribute("lang", lang === "fr" ? "en" : "fr");
  }

  // ------------------------------------------------------------------------------ kernel

  function base64Bytes(text) {
    var raw = atob(text), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function loadKernel() {
    if (kernel) return Promise.resolve(kernel);
    var imports = { env: { emscripten_notify_memory_growth: function () {} } };
    return WebAssembly.instantiate(base64Bytes(config.wasm), imports).then(function (made) {
      kernel = made.instance.exports;
      kernel._initialize();
      kernel.k_init();
      return kernel;
    });
  }

  function bytesAt(pointer, length) { return new Uint8Array(kernel.memory.buffer, pointer, length); }

  function hex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  function alloc(bytes) {
    var pointer = kernel.k_alloc(bytes);
    if (!pointer) throw new Error("memory");
    return pointer;
  }

  // MD5 and SHA-256 of a file, read in pieces (large files never sit whole in memory twice).
  function digests(file) {
    var md5 = kernel.k_digest_new(0), sha = kernel.k_digest_new(1);
    var piece = 4 << 20, offset = 0, buffer = alloc(piece);
    function next() {
      if (offset >= file.size) {
        var out = alloc(32), result = {};
        kernel.k_digest_end(md5, out);
        result.md5 = hex(bytesAt(out, 16));
        kernel.k_digest_end(sha, out);
        result.sha256 = hex(bytesAt(out, 32));
        kernel.k_free(out);
        kernel.k_free(buffer);
        return result;
      }
      return file.slice(offset, offset + piece).arrayBuffer().then(function (data) {
        bytesAt(buffer, data.byteLength).set(new Uint8Array(data));
        kernel.k_digest_update(md5, buffer, data.byteLength);
        kernel.k_digest_update(sha, buffer, data.byteLength);
        offset += data.byteLength;
        return next();
      });
    }
    return next();
  }

  function sha256Text(text) {
    var data = new TextEncoder().encode(text), pointer = alloc(Math.max(1, data.length));
    var context = kernel.k_digest_new(1), out = alloc(32);
    bytesAt(pointer, data.length).set(data);
    kernel.k_digest_update(context, pointer, data.length);
    kernel.k_digest_end(context, out);
    var digest = hex(bytesAt(out, 32));
    kernel.k_free(out);
    kernel.k_free(pointer);
    return digest;
  }

  // PDQ of a window of the luma (float32, rows `stride` floats apart).
  function pdq(luma, stride, box) {
    var out = alloc(32);
    var first = luma + 4 * (box[1] * stride + box[0]);
    var quality = kernel.k_pdq(first, box[3] - box[1], box[2] - box[0], stride, out);
    var hash = hex(bytesAt(out, 32));
    kernel.k_free(out);
    if (quality < 0) throw new Error("memory");
    return { pdq: hash, quality: quality };
  }

  // ------------------------------------------------------------- windows (windows.py)

  // Python's round(): halves go to the even neighbour.
  function pyRound(x) {
    var floor = Math.floor(x), diff = x - floor;
    if (diff > 0.5) return floor + 1;
    if (diff < 0.5) return floor;
    return floor % 2 === 0 ? floor : floor + 1;
  }

  function thirds(size) { return [0, pyRound(size / 3), pyRound((2 * size) / 3), size]; }

  function centred(width, height, percent) {
    var w = pyRound((width * percent) / 100), h = pyRound((height * percent) / 100);
    var left = Math.floor((width - w) / 2), top = Math.floor((height - h) / 2);
    return [left, top, left + w, top + h];
  }

  function marginsBox(width, height, left, top, right, bottom) {
    var x0 = pyRound((width * left) / 100), y0 = pyRound((height * top) / 100);
    var x1 = width - pyRound((width * right) / 100), y1 = height - pyRound((height * bottom) / 100);
    return [x0, y0, Math.max(x0 + 1, x1), Math.max(y0 + 1, y1)];
  }

  // grid_windows, then registration_crops, in the CLI's order.
  function registrationWindows(width, height) {
    var windows = [], rows = thirds(height), cols = thirds(width), r, c, i, j;
    var offsets = [];
    for (i = 0; i < CROP_STEPS; i++) offsets.push(((i + 0.5) * CROP_SPAN) / CROP_STEPS);
    windows.push.apply(windows, [90, 80].map(function (share) {
      return { kind: "crop", label: "centre-" + share, box: centred(width, height, share) };
    }));
    // windows.py's centred square, against a collage's cells (none for a picture within
    // SQUARE_SLACK of square)
    var side = Math.min(width, height);
    if (side < (1 - SQUARE_SLACK) * Math.max(width, height)) {
      var sx = Math.floor((width - side) / 2), sy = Math.floor((height - side) / 2);
      windows.push({ kind: "crop", label: "centre-square", box: [sx, sy, sx + side, sy + side] });
    }
    offsets.forEach(function (top) {
      offsets.forEach(function (left) {
        windows.push({
          kind: "crop_smooth", smooth: true,
          label: "80-x" + left.toFixed(1) + "-y" + top.toFixed(1),
          box: marginsBox(width, height, left, top, CROP_SPAN - left, CROP_SPAN - top),
        });
      });
    });
    for (i = 0; i < 16; i++) {
      var m = [0, 1, 2, 3].map(function (bit) { return BORDER_MARGINS[(i >> (3 - bit)) & 1]; });
      windows.push({
        kind: "crop_smooth", smooth: true,
        label: "border-" + m.map(function (v) { return v.toFixed(1); }).join("-"),
        box: marginsBox(width, height, m[0], m[1], m[2], m[3]),
      });
    }
    for (r = 0; r < 3; r++) {
      for (c = 0; c < 3; c++) {
        windows.push({ kind: "grid", label: "r" + r + "c" + c, box: [cols[c], rows[r], cols[c + 1], rows[r + 1]] });
      }
    }
    return windows;
  }

  function extras(luma, width, height) {
    var windows = registrationWindows(width, height);
    var factor = Math.max(1, Math.ceil(Math.max(width, height) / WORK));
    var rw = Math.floor(width / factor), rh = Math.floor(height / factor);
    var smooth = windows.filter(function (w) { return w.smooth; });
    var reduced = alloc(4 * rw * rh), boxes = alloc(16 * smooth.length);
    var resized = alloc(4 * SMOOTH * SMOOTH * smooth.length), out = [], at = 0;
    try {
      kernel.k_block_mean(luma, height, width, factor, reduced);
      // windows.py's _Reduced.smoothed: the box in reduced pixels, kept within the image.
      var edges = new Float32Array(kernel.memory.buffer, boxes, 4 * smooth.length);
      smooth.forEach(function (w, k) {
        var b = w.box;
        var left = Math.min(Math.max(0, b[0] / factor), rw - 1), top = Math.min(Math.max(0, b[1] / factor), rh - 1);
        edges.set([left, top, Math.max(left + 1, Math.min(rw, b[2] / factor)), Math.max(top + 1, Math.min(rh, b[3] / factor))], 4 * k);
      });
      if (kernel.k_resize_many(reduced, rw, rh, smooth.length, boxes, SMOOTH, resized) !== 0) throw new Error("memory");
      windows.forEach(function (w) {
        var hashed = w.smooth
          ? pdq(resized + 4 * SMOOTH * SMOOTH * at++, SMOOTH, [0, 0, SMOOTH, SMOOTH])
          : pdq(luma, width, w.box);
        out.push({ kind: w.kind, label: w.label, pdq: hashed.pdq, quality: hashed.quality });
      });
    } finally {
      kernel.k_free(reduced);
      kernel.k_free(boxes);
      kernel.k_free(resized);
    }
    return out.concat(coarseGrids(luma, width, height));
  }

  // mosaic_windows(registering=True): the whole picture reduced to each coarse grid (area
  // means), rendered at 64 x 64 and hashed, against pixelated copies (mosaic.py). A grid the
  // kernel refuses (a picture over a million times taller than wide) is left out, not the
  // picture.
  function coarseGrids(luma, width, height) {
    var view = alloc(4 * COARSE * COARSE), out = [];
    try {
      GRIDS.forEach(function (grid) {
        if (kernel.k_coarse(luma, width, height, grid, view) !== 0) return;
        var hashed = pdq(view, COARSE, [0, 0, COARSE, COARSE]);
        out.push({ kind: "mosaic", label: String(grid), pdq: hashed.pdq, quality: hashed.quality });
      });
    } finally {
      kernel.k_free(view);
    }
    return out;
  }

  // The local features `bank add` stores (ORB keypoints, descriptors and check points, the
  // CLI's arithmetic: orb.h), as base64 of LocalFeatures.to_bytes; null without keypoints.
  function localFeatures(luma, width, height) {
    var blob = featureBlob(luma, width, height, 1, FEATURES);
    return blob[2] | (blob[3] << 8) ? toBase64(blob) : null;
  }

  function featureBlob(luma, width, height, checks, limit) {
    var cap = kernel.k_features_max(), out = alloc(cap);
    try {
      var length = kernel.k_features(luma, width, height, checks, limit, out, cap);
      if (length < 0) throw new Error("memory");
      return bytesAt(out, length).slice();
    } finally {
      kernel.k_free(out);
    }
  }

  // features.py's _window_offsets: `steps` starts along a side, edge to edge.
  function windowOffsets(side, window) {
    var room = side - window, seen = {}, out = [], i;
    if (room <= 0) return [0];
    for (i = 0; i < WINDOW_STEPS; i++) seen[pyRound((room * i) / (WINDOW_STEPS - 1))] = true;
    for (i in seen) out.push(Number(i));
    return out.sort(function (a, b) { return a - b; });
  }

  // Each window's features (features.window_boxes, in its order: a row after another), as
  // base64 of LocalFeatures.to_bytes without check points: the server brings them back to
  // the picture and merges them into its window keypoints as `bank add` does
  // (features.merge_window_features). Keypoints and descriptors only, never pixels.
  function windowFeatures(luma, width, height) {
    var ww = Math.max(1, pyRound(width * WINDOW_SHARE)), wh = Math.max(1, pyRound(height * WINDOW_SHARE));
    var copy = alloc(4 * ww * wh), out = [];
    try {
      var whole = new Float32Array(kernel.memory.buffer, luma, width * height);
      var part = new Float32Array(kernel.memory.buffer, copy, ww * wh);
      windowOffsets(height, wh).forEach(function (top) {
        windowOffsets(width, ww).forEach(function (left) {
          for (var y = 0; y < wh; y++) {
            var at = (top + y) * width + left;
            part.set(whole.subarray(at, at + ww), y * ww);
          }
          out.push(toBase64(featureBlob(copy, ww, wh, 0, WINDOW_FEATURES)));
          // the kernel may have grown its memory: the views are taken again
          whole = new Float32Array(kernel.memory.buffer, luma, width * height);
          part = new Float32Array(kernel.memory.buffer, copy, ww * wh);
        });
      });
    } finally {
      kernel.k_free(copy);
    }
    return out;
  }

  // --------------------------------------------------------------------- decoding

  // The EXIF orientation of a JPEG (1 when there is none): decides whether the raw-pixel
  // hash partners compute differs from ours (decode.py's partner luma).
  function jpegOrientation(bytes) {
    var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) return 1;
    var offset = 2;
    while (offset + 4 <= view.byteLength) {
      var marker = view.getUint16(offset), length = view.getUint16(offset + 2);
      if (marker === 0xffe1 && offset + 10 < view.byteLength && view.getUint32(offset + 4) === 0x45786966) {
        var tiff = offset + 10, little = view.getUint16(tiff) === 0x4949;
        if (tiff + 8 > view.byteLength) return 1;
        var ifd = tiff + view.getUint32(tiff + 4, little);
        if (ifd + 2 > view.byteLength) return 1;
        var count = view.getUint16(ifd, little);
        for (var i = 0; i < count; i++) {
          var entry = ifd + 2 + 12 * i;
          if (entry + 12 > view.byteLength) return 1;
          if (view.getUint16(entry, little) === 0x0112) {
            var value = view.getUint16(entry + 8, little);
            return value >= 1 && value <= 8 ? value : 1;
          }
        }
        return 1;
      }
      if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) return 1;
      offset += 2 + length;
    }
    return 1;
  }

  // The pixels as stored, straight from the decoded bitmap through WebCodecs' VideoFrame
  // (one copy, no canvas), into the kernel's memory: {bgr} when it could, null otherwise.
  // Chromium keeps the EXIF orientation as the frame's rotation and flip, so the frame must
  // be what the orientation says: upright for 1, turned or flipped (sides swapped for 5-8)
  // otherwise. Pictures with an alpha channel go through the canvas, as before.
  function storedPixels(bitmap, target, orientation) {
    if (typeof VideoFrame !== "function") return Promise.resolve(null);
    var frame;
    try {
      frame = new VideoFrame(bitmap, { timestamp: 0 });
      var swap = orientation >= 5, turned = frame.rotation !== 0 || frame.flip;
      var width = swap ? bitmap.height : bitmap.width, height = swap ? bitmap.width : bitmap.height;
      var ok = (frame.format === "BGRX" || frame.format === "RGBX") &&
        frame.codedWidth === width && frame.codedHeight === height &&
        frame.visibleRect.width === width && frame.visibleRect.height === height &&
        turned === (orientation !== 1) && frame.allocationSize() === 4 * width * height;
      if (!ok) {
        frame.close();
        return Promise.resolve(null);
      }
      var bgr = frame.format === "BGRX" ? 1 : 0;
      return frame.copyTo(bytesAt(target, 4 * width * height)).then(function () {
        frame.close();
        return { bgr: bgr };
      }, function () {
        frame.close();
        return null;
      });
    } catch (error) {
      if (frame) frame.close();
      return Promise.resolve(null);
    }
  }

  function pixelsThroughCanvas(bitmap, target) {
    var width = bitmap.width, height = bitmap.height;
    var canvas = new OffscreenCanvas(width, height);
    var context = canvas.getContext("2d", { willReadFrequently: true, colorSpace: "srgb" });
    context.drawImage(bitmap, 0, 0);
    bytesAt(target, 4 * width * height).set(context.getImageData(0, 0, width, height).data);
    canvas.width = canvas.height = 1;
  }

  function decode(file) {
    var options = { imageOrientation: "from-image", colorSpaceConversion: "none", premultiplyAlpha: "none" };
    return createImageBitmap(file, options);
  }

  // The luma as shown and, when the pixels came as stored and the orientation turns them,
  // the stored luma too (`stored`: the raw pixels partners hash).
  function lumaOf(bitmapPromise, orientation) {
    return bitmapPromise.then(function (bitmap) {
      var width = bitmap.width, height = bitmap.height, pixels = width * height;
      if (pixels > MAX_PIXELS) {
        bitmap.close();
        throw new Error("too-large");
      }
      var source = alloc(4 * pixels);
      return storedPixels(bitmap, source, orientation).then(function (stored) {
        if (!stored) pixelsThroughCanvas(bitmap, source);
        bitmap.close();
        var luma = alloc(4 * pixels), raw = 0;
        if (stored && orientation !== 1) {
          raw = alloc(4 * pixels);
          kernel.k_luma(source, raw, pixels, stored.bgr);
          kernel.k_orient(raw, height, width, orientation, luma);
        } else {
          kernel.k_luma(source, luma, pixels, stored ? stored.bgr : 0);
        }
        kernel.k_free(source);
        return { luma: luma, width: width, height: height, stored: raw };
      }, function (error) {
        bitmap.close();
        kernel.k_free(source);
        throw error;
      });
    });
  }

  // The hash partners compute from the raw pixels, where the EXIF orientation makes it
  // differ from ours (decode.py's partner luma): the shown luma turned back.
  function partnerHash(luma, width, height, orientation) {
    var raw = alloc(4 * width * height);
    try {
      kernel.k_unorient(luma, height, width, orientation, raw);
      var swap = orientation >= 5, rw = swap ? height : width, rh = swap ? width : height;
      return pdq(raw, rw, [0, 0, rw, rh]);
    } finally {
      kernel.k_free(raw);
    }
  }

  function hashImage(file, decoding) {
    var item = { media: "image" }, orientation = 1;
    return digests(file).then(function (d) {
      item.md5 = d.md5;
      item.sha256 = d.sha256;
      return file.slice(0, 1 << 17).arrayBuffer();
    }).then(function (head) {
      orientation = jpegOrientation(new Uint8Array(head));
      return lumaOf(decoding, orientation);
    }).then(function (decoded) {
      var width = decoded.width, height = decoded.height;
      try {
        var whole = pdq(decoded.luma, width, [0, 0, width, height]);
        item.pdq = whole.pdq;
        item.quality = whole.quality;
        item.width = width;
        item.height = height;
        item.extras = extras(decoded.luma, width, height);
        var found = localFeatures(decoded.luma, width, height);
        if (found) {
          item.features = found;
          item.windows = windowFeatures(decoded.luma, width, height);
        }
        if (orientation !== 1) {
          var partner;
          if (decoded.stored) {
            var rw = orientation >= 5 ? height : width, rh = orientation >= 5 ? width : height;
            partner = pdq(decoded.stored, rw, [0, 0, rw, rh]);
          } else {
            partner = partnerHash(decoded.luma, width, height, orientation);
          }
          if (partner.pdq !== item.pdq) item.partner = partner;
        }
      } finally {
        kernel.k_free(decoded.luma);
        if (decoded.stored) kernel.k_free(decoded.stored);
      }
      return item;
    });
  }

  // ------------------------------------------------------------------------ videos

  var EPSILON = 0.001; // video.py's _EPSILON: an instant belongs to the frame on screen then
  var MAX_FRAMES = 20000;

  function seek(video, time) {
    return new Promise(function (resolve, reject) {
      video.onseeked = resolve;
      video.onerror = function () { reject(new Error("video")); };
      video.currentTime = time;
    });
  }

  // Its digests, and the PDQ hash of the frame on screen at each whole second counted from
  // the first frame, for every second before its end (video.py's sampling, vPDQ's 1 a
  // second). The browser plays the file she chose from memory (a blob: address).
  function hashVideo(file) {
    var item = { media: "video" }, video = document.createElement("video");
    var address = URL.createObjectURL(file), source = 0, luma = 0;
    video.muted = true;
    video.preload = "auto";
    return digests(file).then(function (d) {
      item.md5 = d.md5;
      item.sha256 = d.sha256;
      return new Promise(function (resolve, reject) {
        video.onloadedmetadata = resolve;
        video.onerror = function () { reject(new Error("video")); };
        video.src = address;
      });
    }).then(function () {
      var width = video.videoWidth, height = video.videoHeight, duration = video.duration;
      if (!width || !height || !isFinite(duration) || width * height > MAX_PIXELS) throw new Error("video");
      item.width = width;
      item.height = height;
      item.duration_ms = Math.round(duration * 1000);
      item.frames = [];
      var canvas = new OffscreenCanvas(width, height), pixels = width * height;
      var context = canvas.getContext("2d", { willReadFrequently: true, colorSpace: "srgb" });
      source = alloc(4 * pixels);
      luma = alloc(4 * pixels);
      function next(at) {
        if ((at > 0 && at + EPSILON >= duration) || at >= MAX_FRAMES) return item;
        return seek(video, at + EPSILON).then(function () {
          context.drawImage(video, 0, 0, width, height);
          bytesAt(source, 4 * pixels).set(context.getImageData(0, 0, width, height).data);
          kernel.k_luma(source, luma, pixels, 0);
          var hashed = pdq(luma, width, [0, 0, width, height]);
          item.frames.push({ at_ms: 1000 * at, pdq: hashed.pdq, quality: hashed.quality });
          return next(at + 1);
        });
      }
      return next(0);
    }).finally(function () {
      if (source) kernel.k_free(source);
      if (luma) kernel.k_free(luma);
      video.removeAttribute("src");
      video.load();
      URL.revokeObjectURL(address);
    });
  }

  // ------------------------------------------------------------------ the hash file

  function canonical(value) {
    if (value === null || typeof value === "boolean") return JSON.stringify(value);
    if (typeof value === "number") {
      if (!Number.isInteger(value)) throw new Error("only whole numbers in a hash file");
      return String(value);
    }
    if (typeof value === "string") {
      return JSON.stringify(value).replace(/[\u007f-\uffff]/g, function (c) {
        return "\\u" + ("0000" + c.charCodeAt(0).toString(16)).slice(-4);
      });
    }
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    return "{" + Object.keys(value).sort().map(function (key) {
      return canonical(key) + ":" + canonical(value[key]);
    }).join(",") + "}";
  }

  function randomBytes(n) { return crypto.getRandomValues(new Uint8Array(n)); }

  function newCode() {
    var bytes = randomBytes(13), number = 0n;
    for (var i = 0; i < 13; i++) number = (number << 8n) | BigInt(bytes[i]);
    number >>= 4n;
    var chars = "";
    for (var k = 0; k < 20; k++) chars += CROCKFORD[Number((number >> BigInt(5 * (19 - k))) & 31n)];
    return chars.match(/.{4}/g).join("-");
  }

  function today() { return new Date().toISOString().slice(0, 10); }

  function hashFileText() {
    var document_ = {
      format: FORMAT,
      version: 3,
      submission: state.submission,
      created: today(),
      made_by: "rempart-page/" + config.version,
      statements: {
        depicted_or_acting_for: $("depicted").checked,
        minor_in_images: $("minor-yes").checked,
      },
      withdrawal: { sha256: sha256Text(state.code.replace(/-/g, "")) },
      items: state.items,
    };
    var label = $("label").value.trim();
    if (label) document_.label = label.slice(0, 200);
    document_.integrity = { sha256: sha256Text(canonical(document_)) };
    return canonical(document_);
  }

  function seal(text) {
    var subtle = crypto.subtle, encoder = new TextEncoder(), key = config.key;
    var curve = { name: "ECDH", namedCurve: "P-256" }, ephemeral, aes;
    return subtle.importKey("spki", base64Bytes(key.spki), curve, false, []).then(function (publicKey) {
      return subtle.generateKey(curve, true, ["deriveBits"]).then(function (pair) {
        ephemeral = pair;
        return subtle.deriveBits({ name: "ECDH", public: publicKey }, pair.privateKey, 256);
      });
    }).then(function (shared) {
      return subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
    }).then(function (material) {
      var params = { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode("rempart hash file v1") };
      return subtle.deriveKey(params, material, { name: "AES-GCM", length: 256 }, false, ["encrypt"]);
    }).then(function (derived) {
      aes = derived;
      return subtle.exportKey("raw", ephemeral.publicKey);
    }).then(function (raw) {
      var iv = randomBytes(12);
      return subtle.encrypt({ name: "AES-GCM", iv: iv }, aes, encoder.encode(text)).then(function (data) {
        return canonical({
          format: FORMAT + "-sealed", version: 1, algorithm: "ECDH-P256+HKDF-SHA256+A256GCM",
          key: key.id, ephemeral: toBase64(new Uint8Array(raw)), iv: toBase64(iv),
          data: toBase64(new Uint8Array(data)),
        });
      });
    });
  }

  function toBase64(bytes) {
    var text = "";
    for (var i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(text);
  }

  function download(text, name) {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 60000);
  }

  // ------------------------------------------------------------------------- the steps

  function show(step) {
    ["step-choose", "step-hash", "step-save"].forEach(function (id) { $(id).hidden = id !== step; });
    var heading = $(step).querySelector("h2");
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }

  function ready() {
    var ok = $("depicted").checked && ($("minor-yes").checked || $("minor-no").checked) && $("files").files.length > 0;
    $("start").disabled = !ok;
  }

  function problem(index, key) {
    state.problems.push({ key: key, n: index + 1 }); // worded when shown, in her language
  }

  function start() {
    state.files = Array.prototype.slice.call($("files").files);
    state.items = [];
    state.problems = [];
    state.submission = hex(randomBytes(16));
    state.code = newCode();
    show("step-hash");
    var bar = $("progress"), status = $("progress-status"), total = state.files.length;
    bar.max = total;
    bar.value = 0;
    loadKernel().then(function () {
      var index = 0, decodings = {};
      // The browser decodes on its own threads: the next picture decodes while this one is
      // hashed. A decoding nobody waits for must not report an unhandled failure.
      function decoding(at) {
        if (at >= total || /^video\//.test(state.files[at].type)) return null;
        if (!decodings[at]) {
          decodings[at] = decode(state.files[at]);
          decodings[at].catch(function () {});
        }
        return decodings[at];
      }
      function next() {
        if (index >= total) return finish();
        var file = state.files[index], at = index;
        status.textContent = t("progress", { done: at, total: total });
        index += 1;
        var work;
        if (/^video\//.test(file.type)) {
          work = hashVideo(file).then(function (item) {
            state.items.push(item);
          }, function () {
            problem(at, "problem.video");
          });
        } else {
          var mine = decoding(at);
          decoding(at + 1);
          delete decodings[at];
          work = hashImage(file, mine).then(function (item) {
            state.items.push(item);
          }, function (error) {
            problem(at, error && error.message === "too-large" ? "problem.large" : "problem.unreadable");
          });
        }
        return work.then(function () {
          bar.value = at + 1;
          return new Promise(function (resolve) { setTimeout(resolve, 0); });
        }).then(next);
      }
      return next();
    }).catch(function () {
      status.textContent = t("problem.kernel");
    });
  }

  function finish() {
    $("progress-status").textContent = t("progress", { done: state.files.length, total: state.files.length });
    var problems = $("problems");
    problems.textContent = "";
    state.problems.forEach(function (found) {
      var li = document.createElement("li");
      li.textContent = t(found.key, { n: found.n });
      problems.appendChild(li);
    });
    $("problems-box").hidden = state.problems.length === 0;
    $("hashed-count").textContent = t("hashed", { n: state.items.length });
    $("code").textContent = state.code;
    $("save").disabled = state.items.length === 0;
    $("sealed-note").hidden = !config.key;
    show("step-save");
  }

  function save() {
    var text = hashFileText(), name = "rempart-hashes-" + today() + "-" + state.submission.slice(0, 6) + ".json";
    var made = config.key ? seal(text) : Promise.resolve(text);
    made.then(function (final) {
      download(final, name);
      $("saved").hidden = false;
    });
  }

  function saveWithdrawal() {
    var text = canonical({ format: "rempart-withdrawal", version: 1, submission: state.submission, code: state.code });
    download(text, "rempart-withdrawal-" + state.submission.slice(0, 6) + ".json");
  }

  document.addEventListener("DOMContentLoaded", function () {
    applyTexts();
    ["depicted", "minor-yes", "minor-no", "files"].forEach(function (id) { $(id).addEventListener("change", ready); });
    $("language").addEventListener("click", function () {
      lang = lang === "fr" ? "en" : "fr";
      applyTexts();
      if (!$("step-save").hidden) finish();
    });
    $("start").addEventListener("click", start);
    $("save").addEventListener("click", save);
    $("save-withdrawal").addEventListener("click", saveWithdrawal);
    $("again").addEventListener("click", function () {
      $("files").value = "";
      $("saved").hidden = true;
      ready();
      show("step-choose");
    });
    ready();
  });
})();
