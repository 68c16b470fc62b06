// The real MLeap runtime as a test oracle: load a bundle, transform a LeapFrame (JSON),
// write the resulting LeapFrame (JSON). Usage: MleapOracle BUNDLE FRAME_IN FRAME_OUT
import java.io.File;

import ml.combust.mleap.json.DefaultFrameReader;
import ml.combust.mleap.json.DefaultFrameWriter;
import ml.combust.mleap.runtime.MleapContext;
import ml.combust.mleap.runtime.frame.DefaultLeapFrame;
import ml.combust.mleap.runtime.frame.Transformer;
import ml.combust.mleap.runtime.javadsl.BundleBuilder;
import ml.combust.mleap.runtime.javadsl.ContextBuilder;

public final class MleapOracle {
    public static void main(String[] args) throws Exception {
        MleapContext context = new ContextBuilder().createMleapContext();
        Transformer root = new BundleBuilder().load(new File(args[0]), context).root();
        DefaultLeapFrame frame = new DefaultFrameReader().read(new File(args[1])).get();
        DefaultLeapFrame result = root.transform(frame).get();
        new DefaultFrameWriter<DefaultLeapFrame>(result).save(new File(args[2])).get();
    }
}
