// Maven oracle: org.apache.maven.artifact.versioning.ComparableVersion
// from Debian's maven-artifact jar (the class Maven itself orders
// versions with). Every string is a ComparableVersion, so none is
// invalid. See oracle_common.py for the protocol.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class OracleMaven {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintWriter out = new PrintWriter(System.out, false, StandardCharsets.UTF_8);
        List<String> lines = new ArrayList<>();
        for (String l; (l = in.readLine()) != null; ) {
            lines.add(l);
        }
        switch (args[0]) {
            case "sort":
                lines.sort((a, b) -> new ComparableVersion(a).compareTo(new ComparableVersion(b)));
                lines.forEach(out::println);
                break;
            case "cmp":
                for (String l : lines) {
                    String[] ab = l.split("\t", 2);
                    int c = Integer.signum(new ComparableVersion(ab[0]).compareTo(new ComparableVersion(ab[1])));
                    out.println("<=>".charAt(c + 1));
                }
                break;
            default:
                throw new IllegalArgumentException("unknown mode " + args[0]);
        }
        out.flush();
    }
}
