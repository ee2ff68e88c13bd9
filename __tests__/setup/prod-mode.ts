// Silences tfjs' debug checks and banner without IS_TEST, which turns on a leak check that misfires under tf.grad.
import * as tf from '@tensorflow/tfjs';

tf.enableProdMode();
