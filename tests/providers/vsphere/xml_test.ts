// The vim25 XML helpers: builders escape, the parser keeps xsi:type and reference types.

import { z } from "zod";
import {
  element,
  escapeXml,
  many,
  moRefElement,
  parseXml,
  textElement,
  xmlBoolean,
  xmlInt,
  xmlMoRef,
  xmlText,
} from "../../../providers/vsphere/xml.ts";
import { assertEquals } from "../../_harness/assert.ts";

Deno.test("builders escape text and attributes", () => {
  assertEquals(escapeXml(`a<b>&"'`), "a&#60;b&#62;&#38;&#34;&#39;");
  assertEquals(textElement("name", "x&y"), "<name>x&#38;y</name>");
  assertEquals(textElement("absent", undefined), "");
  assertEquals(
    moRefElement("_this", { type: "VirtualMachine", value: "vm-1" }),
    `<_this type="VirtualMachine">vm-1</_this>`,
  );
  assertEquals(element("a", "<b/>", { "xsi:type": "T" }), `<a xsi:type="T"><b/></a>`);
});

Deno.test("a RetrievePropertiesEx reply parses to typed values: references, xsi:type text, ints, booleans, arrays of one", () => {
  const reply = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-42</obj><propSet><name>runtime.host</name><val type="HostSystem" xsi:type="ManagedObjectReference">host-1</val></propSet><propSet><name>config.hardware.numCPU</name><val xsi:type="xsd:int">2</val></propSet><propSet><name>config.template</name><val xsi:type="xsd:boolean">false</val></propSet><propSet><name>name</name><val xsi:type="xsd:string">a &amp; b</val></propSet></objects></returnval></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>`;
  const root = parseXml(reply);
  assertEquals(root.name, "Envelope");
  const schema = z.object({
    Body: z.object({
      RetrievePropertiesExResponse: z.object({
        returnval: z.object({
          objects: many(
            z.object({
              obj: xmlMoRef,
              propSet: many(z.object({ name: xmlText, val: z.unknown() })),
            }),
          ),
        }),
      }),
    }),
  });
  const parsed = schema.parse(root.value).Body.RetrievePropertiesExResponse.returnval.objects;
  assertEquals(parsed.length, 1, "one object, though not repeated");
  assertEquals(parsed[0].obj, { type: "VirtualMachine", value: "vm-42" });
  const props = new Map(parsed[0].propSet.map((p) => [p.name, p.val]));
  assertEquals(xmlMoRef.parse(props.get("runtime.host")), { type: "HostSystem", value: "host-1" });
  assertEquals(xmlInt.parse(props.get("config.hardware.numCPU")), 2);
  assertEquals(xmlBoolean.parse(props.get("config.template")), false);
  assertEquals(xmlText.parse(props.get("name")), "a & b");
});
