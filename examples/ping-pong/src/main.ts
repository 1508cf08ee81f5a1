console.log("ping-pong: not written yet");
