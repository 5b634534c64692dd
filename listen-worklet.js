// bitgru Listen page: the microphone capture processor (AudioWorklet; the deprecated
// ScriptProcessorNode is not used). It averages the input channels to mono and posts chunks of
// `chunk` samples (at the AudioContext's rate, 16 kHz when the browser honours the page's
// request) to the page as transferred Float32Array buffers: `{ rate, samples }`.
class BitgruCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.chunk = Math.max(128, (options.processorOptions && options.processorOptions.chunk) || 1024);
    this.buf = new Float32Array(this.chunk);
    this.fill = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (input && input.length > 0) {
      const n = input[0].length;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < input.length; c++) s += input[c][i];
        this.buf[this.fill++] = s / input.length;
        if (this.fill === this.chunk) {
          this.port.postMessage({ rate: sampleRate, samples: this.buf }, [this.buf.buffer]);
          this.buf = new Float32Array(this.chunk);
          this.fill = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor('bitgru-capture', BitgruCapture);
