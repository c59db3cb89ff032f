// IMPS with four knobs and four lights: an Arduino Uno (or any board with four analog
// inputs and four PWM pins) as IMPS's interface over USB serial.
//
// NOT COMPILED HERE: the machines IMPS is built and tested on have no Arduino toolchain.
// The sketch is kept small and conventional so that it can be checked by eye; compile
// and upload it with the Arduino IDE or arduino-cli. IMPS's side of it (the lines in,
// the lines out) is tested through a pseudo-terminal standing in for the board.
//
// Wiring:
//   four 10 kOhm potentiometers: outer legs to 5V and GND, wipers to A0, A1, A2, A3
//   four LEDs: pins 3, 5, 6, 9 (PWM) -> 220 Ohm resistor -> LED anode, cathode -> GND
//
// Play it (dimension 5: four values, plus time):
//   python predictive_music_model.py --dimension 5 --serial /dev/ttyACM0 --serialscale 1023
// (--seriallist names the port: /dev/ttyUSB0 on boards with a CH340 or FTDI chip,
// COM3 or so on Windows; a part of its name also does, such as --serial Arduino)
//
// In: when a knob moves, one line of the four readings as analogRead gives them,
// 0-1023, such as "512,0,1023,77"; --serialscale 1023 makes them 0-1 for IMPS.
// Out: IMPS writes each prediction as a line of four numbers 0-1 with 4 decimals,
// such as "0.5000,0.1250,1.0000,0.0000", and the LEDs show it.

const int KNOBS[4] = {A0, A1, A2, A3};
const int LEDS[4] = {3, 5, 6, 9};
const int JITTER = 4;  // analogRead wanders by a count or two: a smaller move is no event

int last[4] = {-100, -100, -100, -100};  // far from any reading, so the first is sent
char line[64];                           // the prediction line coming in from IMPS
int length = 0;

void setup() {
  Serial.begin(115200);  // IMPS's default --baud
  for (int i = 0; i < 4; i++) {
    pinMode(LEDS[i], OUTPUT);
  }
}

void loop() {
  sendKnobs();
  readPredictions();
  delay(10);  // at most 100 lines a second
}

// One line with all four readings, when any knob has moved.
void sendKnobs() {
  int now[4];
  bool moved = false;
  for (int i = 0; i < 4; i++) {
    now[i] = analogRead(KNOBS[i]);
    if (abs(now[i] - last[i]) > JITTER) {
      moved = true;
    }
  }
  if (!moved) {
    return;
  }
  for (int i = 0; i < 4; i++) {
    last[i] = now[i];
    Serial.print(now[i]);
    Serial.print(i < 3 ? ',' : '\n');
  }
}

// Gather what IMPS sent; each whole line is one prediction.
void readPredictions() {
  while (Serial.available() > 0) {
    char c = Serial.read();
    if (c == '\n') {
      line[length] = '\0';
      showPrediction(line);
      length = 0;
    } else if (length < (int)sizeof(line) - 1) {
      line[length++] = c;
    }
  }
}

// "0.5000,0.1250,1.0000,0.0000": each number 0-1 as an LED's brightness 0-255.
void showPrediction(char *text) {
  char *next = text;
  for (int i = 0; i < 4; i++) {
    float value = strtod(next, &next);  // stops at the comma
    analogWrite(LEDS[i], constrain((int)(value * 255 + 0.5), 0, 255));
    if (*next == ',') {
      next++;
    }
  }
}
